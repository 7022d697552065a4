use std::path::{Path, PathBuf};

use super::component_of;

fn artifact(manifest: &str, kinds: &[&str], files: &[&str]) -> String {
    serde_json::json!({
        "reason": "compiler-artifact",
        "manifest_path": manifest,
        "target": { "kind": kinds, "name": "x" },
        "filenames": files,
    })
    .to_string()
}

#[test]
fn the_component_of_the_crate_is_picked_among_its_dependencies() {
    let messages = [
        artifact(
            "/home/u/.cargo/registry/wit-bindgen/Cargo.toml",
            &["lib"],
            &["/t/wasm32-wasip2/release/deps/libwit_bindgen.rlib"],
        ),
        "not json: a line cargo printed".to_string(),
        artifact(
            "/src/my-authz/sdk/Cargo.toml",
            &["lib"],
            &["/t/wasm32-wasip2/release/deps/libstrait_plugin_sdk.rlib"],
        ),
        artifact(
            "/src/my-authz/Cargo.toml",
            &["cdylib"],
            &["/t/wasm32-wasip2/release/my_authz.wasm"],
        ),
        serde_json::json!({"reason": "build-finished", "success": true}).to_string(),
    ]
    .join("\n");
    assert_eq!(
        component_of(&messages, Path::new("/src/my-authz/Cargo.toml")),
        Some(PathBuf::from("/t/wasm32-wasip2/release/my_authz.wasm"))
    );
}

#[test]
fn a_crate_without_a_cdylib_has_no_component() {
    let messages = artifact(
        "/src/p/Cargo.toml",
        &["lib"],
        &["/t/wasm32-wasip2/release/libp.rlib"],
    );
    assert_eq!(
        component_of(&messages, Path::new("/src/p/Cargo.toml")),
        None
    );
    // Another crate's component is not this crate's.
    let messages = artifact(
        "/src/other/Cargo.toml",
        &["cdylib"],
        &["/t/wasm32-wasip2/release/other.wasm"],
    );
    assert_eq!(
        component_of(&messages, Path::new("/src/p/Cargo.toml")),
        None
    );
}
