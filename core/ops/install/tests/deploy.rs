//! `deploy/` stays what the installer renders. Set STRAIT_UPDATE_DEPLOY=1
//! to write the files instead of comparing them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use strait_install::deploy::DeployFile;

const UPDATE: &str = "STRAIT_UPDATE_DEPLOY";
const REGENERATE: &str = "STRAIT_UPDATE_DEPLOY=1 cargo test -p strait-install --test deploy";

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../deploy")
}

/// The rendered files; with STRAIT_UPDATE_DEPLOY=1 also written to disk,
/// once, before any test reads the disk.
fn rendered() -> &'static [DeployFile] {
    static FILES: OnceLock<Vec<DeployFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        let files = strait_install::deploy::files().expect("renders");
        if std::env::var(UPDATE).is_ok_and(|v| v == "1") {
            for file in &files {
                let path = deploy_dir().join(file.path);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).expect("create the directory");
                }
                std::fs::write(&path, &file.contents).expect("write");
            }
        }
        files
    })
}

#[test]
fn the_deploy_files_are_current() {
    let stale: Vec<&str> = rendered()
        .iter()
        .filter(|file| {
            std::fs::read_to_string(deploy_dir().join(file.path))
                .ok()
                .as_deref()
                != Some(file.contents.as_str())
        })
        .map(|file| file.path)
        .collect();
    assert!(
        stale.is_empty(),
        "deploy/{} differ from the installer's output; regenerate with `{REGENERATE}` \
         from the workspace root and commit the result",
        stale.join(", deploy/")
    );
}

/// Checked on disk: `the_deploy_files_are_current` keeps the disk equal
/// to the renderer, so this holds for what users apply.
#[test]
fn every_kustomization_names_files_that_exist_or_that_the_user_brings() {
    let files = rendered();
    let user_files = ["ca-bundle.crt", "tls.crt", "tls.key", "ca.crt"];
    for file in files
        .iter()
        .filter(|f| f.path.ends_with("kustomization.yaml"))
    {
        let dir = deploy_dir().join(Path::new(file.path).parent().expect("a directory"));
        let yaml: serde_norway::Value = serde_norway::from_str(&file.contents).expect("YAML");
        for resource in yaml["resources"].as_sequence().expect("resources") {
            let resource = resource.as_str().expect("a path");
            let target = dir.join(resource);
            if target.is_dir() {
                assert!(
                    target.join("kustomization.yaml").is_file(),
                    "{}: {resource} has no kustomization.yaml",
                    file.path
                );
            } else {
                assert!(target.is_file(), "{}: {resource} does not exist", file.path);
            }
        }
        for generator in ["configMapGenerator", "secretGenerator"] {
            for entry in yaml[generator].as_sequence().into_iter().flatten() {
                for name in entry["files"].as_sequence().expect("files") {
                    let name = name.as_str().expect("a file name");
                    assert!(user_files.contains(&name), "{}: {name}", file.path);
                    assert!(
                        is_ignored(&dir, name),
                        "{}: {name} is not in the .gitignore beside it",
                        file.path
                    );
                }
                assert_eq!(yaml["generatorOptions"]["disableNameSuffixHash"], true);
            }
        }
    }
}

#[test]
fn the_generated_directories_hold_nothing_stale() {
    let files = rendered();
    let generated: Vec<PathBuf> = files.iter().map(|f| deploy_dir().join(f.path)).collect();
    let mut pending = vec![
        deploy_dir().join("control-plane"),
        deploy_dir().join("multicluster"),
    ];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            assert!(
                generated.contains(&path) || is_ignored(&dir, name),
                "{} is neither generated nor a file the user brings; remove it",
                path.display()
            );
        }
    }
}

/// Whether `name` is listed in `dir/.gitignore`.
fn is_ignored(dir: &Path, name: &str) -> bool {
    std::fs::read_to_string(dir.join(".gitignore"))
        .is_ok_and(|text| text.lines().any(|line| line.trim() == name))
}

#[test]
fn the_readme_documents_every_role() {
    let readme = std::fs::read_to_string(deploy_dir().join("README.md")).expect("deploy/README.md");
    let control_plane = strait_install::ControlPlane::default()
        .objects()
        .expect("renders");
    let multicluster = strait_install::Multicluster {
        links: vec!["name".into()],
        ..strait_install::Multicluster::default()
    }
    .objects()
    .expect("renders");
    for object in control_plane.iter().chain(&multicluster) {
        if matches!(object.kind(), "ClusterRole" | "Role") {
            // The README writes the link's name as NAME.
            let name = object.name().replace("-name", "-NAME");
            assert!(
                readme.contains(&format!("`{name}`")),
                "deploy/README.md does not explain {} {}",
                object.kind(),
                object.name()
            );
        }
    }
    for flag in [
        "disableNameSuffixHash",
        "ca-bundle.crt",
        "tls.key",
        "apply -k",
    ] {
        assert!(readme.contains(flag), "deploy/README.md: {flag}");
    }
}

/// `kubectl kustomize` on a copy of `deploy/` with placeholder identity
/// files builds every kustomization into what the installer renders plus
/// the generated ConfigMaps and Secret. Needs kubectl; without it the
/// test says so and checks nothing, except in CI, which installs kubectl
/// and fails the test without it.
#[test]
fn kubectl_kustomize_builds_each_kustomization() {
    if Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        strait_test_support::tool_missing!(
            "kubectl is not installed (apt-get install -y kubectl): kustomizations not built"
        );
        return;
    }
    rendered();
    let copy = std::env::temp_dir().join(format!("strait-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&deploy_dir(), &copy);
    let user = ["ca-bundle.crt", "tls.crt", "tls.key", "ca.crt"];
    for dir in ["control-plane", "multicluster/gateway"] {
        for file in user {
            std::fs::write(copy.join(dir).join(file), "placeholder\n").expect("write");
        }
    }
    let names = |dir: &str| -> Vec<(String, String, String)> {
        let output = Command::new("kubectl")
            .args(["kustomize"])
            .arg(copy.join(dir))
            .output()
            .expect("kubectl runs");
        assert!(
            output.status.success(),
            "kubectl kustomize deploy/{dir}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).expect("UTF-8");
        let mut names: Vec<_> = format!("\n{text}")
            .split("\n---\n")
            .map(|doc| serde_norway::from_str::<serde_norway::Value>(doc).expect("YAML"))
            .filter(|v| !v.is_null())
            .map(|v| {
                let s = |x: &serde_norway::Value| x.as_str().unwrap_or_default().to_string();
                (
                    s(&v["kind"]),
                    s(&v["metadata"]["namespace"]),
                    s(&v["metadata"]["name"]),
                )
            })
            .collect();
        names.sort();
        names
    };
    let expected = |objects: Vec<strait_install::Object>, extra: &[(&str, &str, &str)]| {
        let mut names: Vec<_> = objects
            .iter()
            .map(|o| {
                (
                    o.kind().to_string(),
                    o.namespace().unwrap_or_default().to_string(),
                    o.name().to_string(),
                )
            })
            .chain(
                extra
                    .iter()
                    .map(|(k, n, m)| (k.to_string(), n.to_string(), m.to_string())),
            )
            .collect();
        names.sort();
        names
    };
    let crds = strait_install::control_plane::crds().expect("crds");
    let mut control_plane = strait_install::ControlPlane::default()
        .objects()
        .expect("renders");
    control_plane.extend(crds);
    assert_eq!(
        names("control-plane"),
        expected(
            control_plane,
            &[
                ("ConfigMap", "linkerd", "linkerd-identity-trust-roots"),
                ("Secret", "linkerd", "linkerd-identity-issuer"),
            ]
        )
    );
    let base = strait_install::Multicluster {
        gateway: false,
        ..strait_install::Multicluster::default()
    };
    assert_eq!(
        names("multicluster"),
        expected(base.objects().expect("renders"), &[])
    );
    assert_eq!(
        names("multicluster/gateway"),
        expected(
            strait_install::Multicluster::default()
                .objects()
                .expect("renders"),
            &[(
                "ConfigMap",
                "linkerd-multicluster",
                "linkerd-identity-trust-roots"
            )]
        )
    );
    let _ = std::fs::remove_dir_all(&copy);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("read") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}
