//! The rules of ARCHITECTURE.md, held against the workspace as cargo
//! resolves it. Each failure names the crates and the path between them.

use std::path::{Path, PathBuf};

use strait_architecture::{Edges, Workspace, crate_map, layer_table};

/// Crates that exist to run layers together in tests: they may depend on
/// anything, and nothing may depend on them but through dev-dependencies.
const TEST_ONLY: &[&str] = &["strait-proxy-integration", "strait-test-support"];

/// The layers whose crates the data plane never reaches.
const NOT_DATA_PLANE: &[&str] = &["store", "control-plane", "ops", "local", "tools"];

/// Crates outside those layers that the data plane never reaches either:
/// the plugins ConfigMap follower (it needs the store) and kube.
const NOT_DATA_PLANE_CRATES: &[&str] = &["strait-plugin-config", "kube", "kube-client"];

/// The data plane besides the proxy layer: what the sidecar runs plugins with.
const DATA_PLANE_PLUGIN_CRATES: &[&str] = &["strait-plugin-host", "strait-plugin-distribution"];

/// The indexes, the store's interface and the plugin contracts: pure
/// computation over typed objects, testable without a network.
const NO_CLIENT_NO_GRPC: &[&str] = &[
    "strait-api",
    "strait-decisions",
    "strait-mesh",
    "strait-sidecar",
    "strait-store",
    "strait-policy",
    "strait-destination",
    "strait-plugin-host",
];

/// What those never reach: kube's client and gRPC.
const CLIENT_AND_GRPC: &[&str] = &["kube-client", "tonic"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn workspace() -> Workspace {
    Workspace::load(&root()).unwrap_or_else(|e| panic!("{e}"))
}

/// ARCHITECTURE.md, whose layer table is the rule the layers are held to.
fn page() -> String {
    let path = root().join("ARCHITECTURE.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_none(what: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "{what}:\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn every_crate_depends_only_on_the_layers_below_it() {
    let ws = workspace();
    assert!(ws.members.len() > 30, "the workspace was not read: {ws:?}");
    let table = layer_table(&page());
    assert!(table.len() >= 9, "ARCHITECTURE.md's layer table: {table:?}");
    let rules: Vec<(&str, Vec<&str>)> = table
        .iter()
        .map(|(layer, allowed)| (layer.as_str(), allowed.iter().map(String::as_str).collect()))
        .collect();
    let rules: Vec<(&str, &[&str])> = rules.iter().map(|(l, a)| (*l, a.as_slice())).collect();
    assert_none(
        "dependencies that cross the layers the wrong way (ARCHITECTURE.md, Layers)",
        ws.layer_violations(&rules, TEST_ONLY),
    );
}

#[test]
fn the_data_plane_never_depends_on_the_control_plane() {
    let ws = workspace();
    let layers = |name: &str| ws.members.get(name).map(|m| m.layer.as_str());
    let forbidden = |name: &str| {
        NOT_DATA_PLANE_CRATES.contains(&name)
            || layers(name).is_some_and(|layer| NOT_DATA_PLANE.contains(&layer))
    };
    let mut roots: Vec<&str> = ws
        .layer("proxy")
        .map(|m| m.name.as_str())
        .filter(|name| !TEST_ONLY.contains(name))
        .collect();
    assert!(
        roots.contains(&"strait-proxy"),
        "no strait-proxy: {roots:?}"
    );
    roots.extend(DATA_PLANE_PLUGIN_CRATES);
    let mut violations = Vec::new();
    for root in roots {
        let tree = ws
            .tree(root, Edges::Build)
            .unwrap_or_else(|e| panic!("{e}"));
        violations.extend(tree.paths_to(forbidden));
    }
    // The proxy's own tests must not bring it in either: its end-to-end
    // tests run a real control plane from strait-proxy-integration.
    let tree = ws
        .tree("strait-proxy", Edges::WithDev)
        .unwrap_or_else(|e| panic!("{e}"));
    violations.extend(tree.paths_to(forbidden));
    violations.sort();
    violations.dedup();
    assert_none("the data plane reaches the control plane", violations);
}

#[test]
fn indexes_and_plugin_contracts_never_reach_kube_client_or_grpc() {
    let ws = workspace();
    let mut violations = Vec::new();
    for root in NO_CLIENT_NO_GRPC {
        let tree = ws
            .tree(root, Edges::Build)
            .unwrap_or_else(|e| panic!("{e}"));
        violations.extend(tree.paths_to(|name| CLIENT_AND_GRPC.contains(&name)));
    }
    assert_none("kube's client or gRPC reached", violations);
}

#[test]
fn the_checks_see_a_forbidden_crate_where_there_is_one() {
    // The integration tests run the control plane on purpose, and the
    // store's Kubernetes backend is kube's client: the same walks must find
    // them there, with the path that brings each in.
    let ws = workspace();
    for (root, names) in [
        (
            "strait-proxy-integration",
            &["strait-control-plane", "strait-store", "tonic"][..],
        ),
        ("strait-store-kube", &["kube-client"][..]),
    ] {
        let tree = ws
            .tree(root, Edges::Build)
            .unwrap_or_else(|e| panic!("{e}"));
        for name in names {
            let paths = tree.paths_to(|n| n == *name);
            assert!(
                paths
                    .first()
                    .is_some_and(|p| p.starts_with(&format!("{root} -> "))),
                "{name} not found from {root}: {paths:?}"
            );
        }
    }
}

#[test]
fn the_crate_map_lists_every_crate_where_it_is() {
    let ws = workspace();
    let listed = crate_map(&page());
    let mut problems = Vec::new();
    for member in ws.members.values().filter(|m| m.path.starts_with("core/")) {
        match listed.iter().find(|(_, name)| *name == member.name) {
            None => problems.push(format!("{} ({}) is not listed", member.path, member.name)),
            Some((path, _)) if *path != member.path => problems.push(format!(
                "{} is listed at {path}, but lives at {}",
                member.name, member.path
            )),
            Some(_) => {}
        }
    }
    for (path, name) in &listed {
        let known = ws
            .members
            .values()
            .any(|m| m.path == *path && m.name == *name);
        let outside = root().join(path).join("Cargo.toml").is_file();
        if !known && !outside {
            problems.push(format!(
                "{path} ({name}) is listed but no such crate exists"
            ));
        }
    }
    assert_none(
        "ARCHITECTURE.md's crate map does not match the tree",
        problems,
    );
}
