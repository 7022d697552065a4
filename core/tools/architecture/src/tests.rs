use serde_json::json;

use super::*;

fn member(name: &str, layer: &str, deps: &[&str]) -> Member {
    Member {
        name: name.to_string(),
        layer: layer.to_string(),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        dev_depends_on: Vec::new(),
        path: format!("core/{layer}/{name}"),
    }
}

fn workspace(members: Vec<Member>) -> Workspace {
    Workspace {
        members: members.into_iter().map(|m| (m.name.clone(), m)).collect(),
        root: PathBuf::new(),
    }
}

#[test]
fn layers_come_from_the_folder_tree() {
    assert_eq!(layer_of(Path::new("core/proxy/io/Cargo.toml")), "proxy");
    assert_eq!(
        layer_of(Path::new("core/control-plane/policy/Cargo.toml")),
        "control-plane"
    );
    assert_eq!(layer_of(Path::new("plugins/sdk/Cargo.toml")), "guest");
    assert_eq!(
        layer_of(Path::new("plugins/examples/authz-namespaces/Cargo.toml")),
        "guest"
    );
    // A crate straight under core/ is in no layer: the rules say so.
    assert_eq!(layer_of(Path::new("core/stray/Cargo.toml")), "root");
}

#[test]
fn metadata_gives_members_their_layer_and_declared_workspace_deps() {
    let metadata = json!({
        "workspace_root": "/w",
        "packages": [
            {
                "name": "strait-proxy",
                "manifest_path": "/w/core/proxy/proxy/Cargo.toml",
                "dependencies": [
                    {"name": "strait-io", "kind": null},
                    {"name": "tokio", "kind": null},
                    {"name": "strait-policy", "kind": "dev"},
                    {"name": "strait-io", "kind": "dev"},
                ],
            },
            {"name": "strait-io", "manifest_path": "/w/core/proxy/io/Cargo.toml", "dependencies": []},
            {"name": "strait-policy", "manifest_path": "/w/core/control-plane/policy/Cargo.toml", "dependencies": []},
        ],
    });
    let ws = Workspace::from_metadata(&metadata).expect("valid metadata");
    let proxy = &ws.members["strait-proxy"];
    assert_eq!(proxy.layer, "proxy");
    // Third-party crates are not members; a crate declared both ways is a
    // normal dependency.
    assert_eq!(proxy.depends_on, ["strait-io"]);
    assert_eq!(proxy.dev_depends_on, ["strait-policy"]);
    assert_eq!(ws.members["strait-policy"].layer, "control-plane");
}

#[test]
fn a_dependency_into_a_layer_not_allowed_is_named_with_both_layers() {
    let ws = workspace(vec![
        member("strait-proxy", "proxy", &["strait-io", "strait-policy"]),
        member("strait-io", "proxy", &[]),
        member("strait-policy", "control-plane", &["strait-api"]),
        member("strait-api", "model", &[]),
    ]);
    let rules: &[(&str, &[&str])] = &[
        ("model", &["model"]),
        ("control-plane", &["model", "control-plane"]),
        ("proxy", &["model", "proxy"]),
    ];
    assert_eq!(
        ws.layer_violations(rules, &[]),
        ["strait-proxy (proxy) -> strait-policy (control-plane)"]
    );
}

#[test]
fn test_only_crates_may_use_anything_but_be_used_by_nothing() {
    let ws = workspace(vec![
        member("strait-test-support", "common", &["strait-policy"]),
        member("strait-policy", "control-plane", &["strait-test-support"]),
        member(
            "strait-proxy-integration",
            "proxy",
            &["strait-test-support", "strait-policy"],
        ),
    ]);
    let rules: &[(&str, &[&str])] = &[
        ("common", &["common"]),
        ("control-plane", &["common", "control-plane"]),
        ("proxy", &["common", "proxy"]),
    ];
    assert_eq!(
        ws.layer_violations(rules, &["strait-test-support", "strait-proxy-integration"]),
        [
            "strait-policy -> strait-test-support: a test-only crate, allowed as a dev-dependency only"
        ]
    );
}

#[test]
fn a_layer_without_a_rule_is_a_violation() {
    let ws = workspace(vec![member("strait-stray", "root", &[])]);
    assert_eq!(
        ws.layer_violations(&[("model", &["model"])], &[]),
        ["strait-stray is in layer \"root\", which has no rule"]
    );
}

#[test]
fn a_tree_keeps_the_first_path_to_each_crate() {
    let text = "\
0strait-proxy v0.1.0 (/w/core/proxy/proxy)
1strait-io v0.1.0 (/w/core/proxy/io)
2tokio v1.54.1
1strait-policy-server v0.1.0 (/w/core/control-plane/policy-server)
2strait-store v0.1.0 (/w/core/store/store)
3tokio v1.54.1 (*)
2prost-derive v0.14.6 (proc-macro)
";
    let tree = Tree::parse(text);
    assert_eq!(tree.paths["tokio"], ["strait-proxy", "strait-io", "tokio"]);
    assert_eq!(
        tree.paths["strait-store"],
        ["strait-proxy", "strait-policy-server", "strait-store"]
    );
    assert_eq!(
        tree.paths_to(|name| name.starts_with("strait-policy") || name == "strait-store"),
        [
            "strait-proxy -> strait-policy-server",
            "strait-proxy -> strait-policy-server -> strait-store",
        ]
    );
    assert!(tree.paths_to(|name| name == "kube-client").is_empty());
}

#[test]
fn the_layer_table_is_read_from_the_page() {
    let page = "\
Some text | with a bar.

| layer | holds | may depend on |
|---|---|---|
| model | types | model |
| proxy | the sidecar, its parts | model, common, proxy |

| other | table |
";
    assert_eq!(
        layer_table(page),
        [
            ("model".to_string(), vec!["model".to_string()]),
            (
                "proxy".to_string(),
                vec![
                    "model".to_string(),
                    "common".to_string(),
                    "proxy".to_string()
                ]
            ),
        ]
    );
}

#[test]
fn the_crate_map_is_read_from_the_page() {
    let page = "\
- `core/proxy/io` (strait-io): replaying and counted I/O.
- `core/tools/fuzz` (strait-fuzz, outside the workspace): fuzzing.
- `plugins/examples/*`, `plugins/testing/*`: examples.
- not a crate
";
    assert_eq!(
        crate_map(page),
        [
            ("core/proxy/io".to_string(), "strait-io".to_string()),
            ("core/tools/fuzz".to_string(), "strait-fuzz".to_string()),
        ]
    );
}
