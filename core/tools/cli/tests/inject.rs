//! `strait inject` as a user runs it: manifests in, injected manifests on
//! stdout, Linkerd's report on stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use k8s_openapi::api::apps::v1::Deployment;

/// The pod-to-pod guide's step 4 stream, as piped to `linkerd inject -`.
const GUIDE: &str = r#"---
apiVersion: v1
kind: Namespace
metadata:
  name: mc-demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bb
  namespace: mc-demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: bb
  template:
    metadata:
      labels:
        app: bb
    spec:
      containers:
      - name: terminus
        image: buoyantio/bb:v0.0.6
        args:
        - terminus
        - "--h1-server-port=8080"
        - "--response-text=hello\n"
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: bb
  namespace: mc-demo
spec:
  ports:
  - name: http
    port: 8080
    targetPort: 8080
  selector:
    app: bb
"#;

/// A number no other call in this test process gets, for scratch names.
fn unique() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The mesh's trust anchors, as `strait install` was given them.
const ANCHORS: &str = "-----BEGIN CERTIFICATE-----\nMIIBanchors\n-----END CERTIFICATE-----\n";

/// `strait inject ARGS...` offline, with the trust anchors from a file.
fn strait(args: &[&str], stdin: &str) -> Output {
    let anchors = scratch(&format!("anchors-{}", unique())).join("ca.crt");
    std::fs::write(&anchors, ANCHORS).expect("anchors file");
    let mut full: Vec<&str> = args.to_vec();
    if full.first() == Some(&"inject") {
        let flags = ["--ignore-cluster", "--identity-trust-anchors-file"];
        full.splice(
            1..1,
            flags.into_iter().chain([anchors.to_str().expect("path")]),
        );
    }
    run(&full, stdin, &[])
}

/// `strait ARGS...` with `env` set and no cluster to talk to: neither a
/// running `strait local up` nor a kubeconfig.
fn run(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let home = scratch(&format!("home-{}", unique()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(args)
        .env("HOME", &home)
        .env("STRAIT_HOME", home.join(".strait"))
        .env("KUBECONFIG", home.join("kubeconfig"))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strait runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("strait finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

/// The documents of a stream: the text between `---` lines (a PEM block's
/// `-----END CERTIFICATE-----` line is not one).
fn documents(stdout: &str) -> Vec<serde_norway::Value> {
    let mut texts = vec![String::new()];
    for line in stdout.lines() {
        if line == "---" {
            texts.push(String::new());
        } else if let Some(current) = texts.last_mut() {
            current.push_str(line);
            current.push('\n');
        }
    }
    texts
        .iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_norway::from_str(d).expect("YAML document"))
        .collect()
}

/// A directory of its own under the target directory, emptied.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("inject-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn the_guide_stream_is_injected_from_stdin() {
    for args in [&["inject", "-"][..], &["inject"][..]] {
        let output = strait(args, GUIDE);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert_eq!(
            text(&output.stderr),
            "\nnamespace \"mc-demo\" annotated\ndeployment \"bb\" injected\nservice \"bb\" skipped\n\n"
        );
        let stdout = text(&output.stdout);
        let docs = documents(&stdout);
        assert_eq!(docs.len(), 3);
        assert_eq!(
            docs[0]["metadata"]["annotations"]["linkerd.io/inject"].as_str(),
            Some("enabled")
        );
        let deployment: Deployment = serde_norway::from_value(docs[1].clone()).expect("Deployment");
        let spec = deployment.spec.template.spec.expect("pod spec");
        let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["linkerd-proxy", "terminus"]);
        let proxy = &spec.containers[0];
        assert_eq!(
            proxy.image.as_deref(),
            Some(strait_api::image::default_image().as_str())
        );
        let init = spec.init_containers.expect("init containers");
        assert_eq!(init[0].name, "linkerd-init");
        // The Service is written back as it came.
        assert!(stdout.ends_with(
            "kind: Service\nmetadata:\n  name: bb\n  namespace: mc-demo\nspec:\n  ports:\n  - name: http\n    port: 8080\n    targetPort: 8080\n  selector:\n    app: bb\n---\n"
        ));
    }
}

#[test]
fn image_overrides_both_containers() {
    let output = strait(
        &["inject", "--image", "registry.example/strait:dev", "-"],
        GUIDE,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(
        stdout
            .matches("image: registry.example/strait:dev\n")
            .count(),
        2,
        "{stdout}"
    );
}

#[test]
fn a_directory_is_read_file_by_file_in_name_order() {
    let dir = scratch("dir");
    std::fs::write(
        dir.join("b.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: second}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a.json"),
        r#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "first"}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a manifest: [").unwrap();
    let output = strait(&["inject", dir.to_str().unwrap()], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr),
        "\nnamespace \"first\" annotated\nservice \"second\" skipped\n\n"
    );
    let docs = documents(&text(&output.stdout));
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["metadata"]["name"].as_str(), Some("first"));
}

#[test]
fn bad_input_prints_nothing_on_stdout_and_names_the_file_and_document() {
    let dir = scratch("bad");
    let file = dir.join("app.yaml");
    std::fs::write(
        &file,
        "kind: Service\nmetadata: {name: a}\n---\nkind: Pod\nmetadata:\n  name: [x\n",
    )
    .unwrap();
    let output = strait(&["inject", file.to_str().unwrap()], "");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("{}: document 2 (line", file.display())),
        "{stderr}"
    );

    let output = strait(
        &["inject", "-"],
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec: {}\n",
    );
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "stdin: document 1 (line 1): deployment/web: spec.template.spec.containers is missing"
        ),
        "{stderr}"
    );

    let output = strait(&["inject", dir.join("missing.yaml").to_str().unwrap()], "");
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("missing.yaml"));
}

#[test]
fn the_proxy_gets_the_anchors_of_the_file_and_the_domains_given() {
    let output = strait(
        &[
            "inject",
            "--identity-trust-domain",
            "example.org",
            "--cluster-domain",
            "cluster.example",
            "-",
        ],
        GUIDE,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let bb: Deployment = serde_norway::from_value(documents(&stdout).remove(1)).expect("bb");
    let proxy = bb
        .spec
        .template
        .spec
        .map(|s| s.containers)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.name == "linkerd-proxy")
        .expect("a proxy");
    let env = |name: &str| {
        proxy
            .env
            .iter()
            .flatten()
            .find(|v| v.name == name)
            .and_then(|v| v.value.clone())
    };
    assert_eq!(
        env("LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS").as_deref(),
        Some(ANCHORS)
    );
    assert_eq!(env("_l5d_trustdomain").as_deref(), Some("example.org"));
    assert!(stdout.contains("cluster.example"), "{stdout}");
}

#[test]
fn without_anchors_nothing_is_injected_and_the_error_says_what_to_pass() {
    // No cluster to read them from.
    let output = run(&["inject", "-"], GUIDE, &[]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("reading the mesh's trust anchors"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--ignore-cluster --identity-trust-anchors-file"),
        "{stderr}"
    );
    // Offline without the file.
    let output = run(&["inject", "--ignore-cluster", "-"], GUIDE, &[]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(
        text(&output.stderr).contains("--ignore-cluster needs --identity-trust-anchors-file"),
        "{}",
        text(&output.stderr)
    );
    // A file that holds no certificate.
    let bad = scratch("bad-anchors").join("ca.crt");
    std::fs::write(&bad, "not a certificate").unwrap();
    let output = run(
        &[
            "inject",
            "--ignore-cluster",
            "--identity-trust-anchors-file",
            bad.to_str().unwrap(),
            "-",
        ],
        GUIDE,
        &[],
    );
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("no PEM certificate in it"),
        "{}",
        text(&output.stderr)
    );
}
