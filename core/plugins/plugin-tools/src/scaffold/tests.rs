use std::collections::BTreeSet;
use std::path::Path;

use strait_plugin_host::PluginKind;

use super::{SDK_DIR, SDK_FILES, WORKSPACE_MANIFEST, check_name, files, workspace_setting};

fn file<'a>(files: &'a [(String, String)], path: &str) -> &'a str {
    files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {path} among {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

/// Every file below `dir`, relative to it.
fn tree(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            tree(&path, base, out);
        } else {
            out.insert(
                path.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

#[test]
fn the_scaffold_carries_every_file_of_the_sdk_as_it_is_in_the_repository() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../plugins/sdk");
    let mut on_disk = BTreeSet::new();
    tree(&sdk, &sdk, &mut on_disk);
    let embedded: BTreeSet<String> = SDK_FILES.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(
        embedded, on_disk,
        "SDK_FILES must list every file of plugins/sdk"
    );
    for (path, text) in SDK_FILES {
        assert_eq!(
            *text,
            std::fs::read_to_string(sdk.join(path)).unwrap(),
            "{path}"
        );
    }
}

#[test]
fn the_sdk_finds_the_wit_files_where_the_scaffold_puts_them() {
    let files = files(PluginKind::Authz, "my-authz").unwrap();
    for (module, wit) in [
        ("src/authz.rs", "wit/authz"),
        ("src/export.rs", "wit/export"),
    ] {
        let source = file(&files, &format!("{SDK_DIR}/{module}"));
        let line = source
            .lines()
            .find(|l| l.trim_start().starts_with("path:"))
            .unwrap_or_else(|| panic!("{module} has no generate! path"));
        let relative = line.split('"').nth(1).unwrap();
        // Resolve the SDK's relative path from the SDK's directory.
        let mut parts: Vec<&str> = SDK_DIR.split('/').collect();
        for part in relative.split('/') {
            match part {
                ".." => {
                    assert!(parts.pop().is_some(), "{relative} leaves the crate");
                }
                "." => {}
                other => parts.push(other),
            }
        }
        let resolved = parts.join("/");
        assert_eq!(resolved, wit, "{module}: {relative}");
        assert!(
            files
                .iter()
                .any(|(p, _)| p.starts_with(&format!("{resolved}/")) && p.ends_with(".wit")),
            "no WIT file under {resolved}"
        );
    }
}

#[test]
fn the_manifest_is_a_workspace_of_its_own_with_what_the_sdk_inherits() {
    for kind in [PluginKind::Authz, PluginKind::Export] {
        let files = files(kind, "my_plugin").unwrap();
        let manifest = file(&files, "Cargo.toml");
        assert!(manifest.contains("name = \"my_plugin\""), "{manifest}");
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert!(manifest.contains("crate-type = [\"cdylib\"]"), "{manifest}");
        assert!(manifest.contains("strait-plugin-sdk = { path = \"vendor/strait-plugin-sdk\" }"));
        let sdk = file(&files, &format!("{SDK_DIR}/Cargo.toml"));
        for inherited in sdk
            .lines()
            .filter_map(|l| l.split_once(".workspace = true"))
        {
            let key = inherited.0.trim();
            let key = key.split_once(' ').map_or(key, |(k, _)| k);
            let key = key.split('.').next().unwrap();
            assert!(
                workspace_setting(manifest, key).is_some(),
                "the SDK inherits {key}, which the scaffold's workspace does not set"
            );
        }
        // The same wit-bindgen and edition as strait's own plugins.
        for key in ["wit-bindgen", "edition", "rust-version"] {
            let ours = workspace_setting(WORKSPACE_MANIFEST, key).unwrap();
            assert!(manifest.contains(&ours), "{key}: {ours} not in {manifest}");
        }
        assert!(file(&files, "rust-toolchain.toml").contains("wasm32-wasip2"));
        let lib = file(&files, "src/lib.rs");
        let export = match kind {
            PluginKind::Authz => "export_authz!",
            PluginKind::Export => "export_export!",
        };
        assert!(lib.contains(export), "{lib}");
        assert!(file(&files, "README.md").contains("my_plugin.wasm"));
        assert!(!file(&files, "README.md").contains("{{"));
        file(&files, ".gitignore");
        file(&files, "cases.yaml");
    }
}

#[test]
fn crate_names_are_checked_and_named_in_the_error() {
    for good in ["my-authz", "a", "export_by_team2", "A-b_c"] {
        assert!(check_name(good).is_ok(), "{good}");
    }
    for (bad, why) in [
        ("", "empty"),
        ("2fast", "start with an ASCII letter"),
        ("-x", "start with an ASCII letter"),
        ("my plugin", "' ' is not allowed"),
        ("my/plugin", "'/' is not allowed"),
        ("plügin", "'ü' is not allowed"),
        ("fn", "keyword"),
        ("test", "reserved"),
        ("strait-plugin-sdk", "dependency"),
    ] {
        let error = check_name(bad).unwrap_err().to_string();
        assert!(error.contains(&format!("{bad:?}")), "{error}");
        assert!(error.contains(why), "{bad}: {error}");
        assert!(files(PluginKind::Export, bad).is_err());
    }
    assert!(check_name(&"a".repeat(65)).is_err());
}

#[test]
fn workspace_settings_are_read_as_written() {
    let manifest = "[workspace.package]\nedition = \"2024\"\neditions = 1\n[workspace.dependencies]\nwit-bindgen = { version = \"0.61\" }\n";
    assert_eq!(
        workspace_setting(manifest, "edition").as_deref(),
        Some("edition = \"2024\"")
    );
    assert_eq!(
        workspace_setting(manifest, "wit-bindgen").as_deref(),
        Some("wit-bindgen = { version = \"0.61\" }")
    );
    assert_eq!(workspace_setting(manifest, "license"), None);
}
