//! Every manifest of the examples loads into an embedded cluster that
//! checks custom resources against strait's CustomResourceDefinitions, as
//! a cluster with strait installed would accept it; and a bad document in a
//! cluster's files is reported and skipped while the rest loads.

use std::path::{Path, PathBuf};

use strait_store::MemoryStore;

/// A copy of `from`'s YAML files in a fresh directory, so loading (which
/// records what it loaded beside the files) leaves the example untouched.
fn copy_of(from: &Path, tag: &str) -> PathBuf {
    let to = std::env::temp_dir().join(format!(
        "strait-examples-schema-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    to
}

#[test]
fn every_example_cluster_loads_without_a_schema_error() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples");
    let mut checked = 0;
    for example in std::fs::read_dir(&examples).unwrap() {
        let example = example.unwrap().path();
        if !example.is_dir() {
            continue;
        }
        for cluster in std::fs::read_dir(&example).unwrap() {
            let cluster = cluster.unwrap().path();
            if !cluster.is_dir() {
                continue;
            }
            let tag = format!(
                "{}-{}",
                example.file_name().unwrap().to_string_lossy(),
                cluster.file_name().unwrap().to_string_lossy()
            );
            let dir = copy_of(&cluster, &tag);
            let store = MemoryStore::new();
            let loaded = strait_local::load(&store, &dir).unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
            assert!(
                loaded.errors.is_empty(),
                "{}: {:?}",
                cluster.display(),
                loaded.errors
            );
            assert!(
                loaded.from_files > 0,
                "{}: nothing loaded",
                cluster.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} example clusters found");
}

#[test]
fn a_document_its_schema_refuses_is_reported_and_the_rest_loads() {
    let dir = std::env::temp_dir().join(format!("strait-schema-skip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: mc-demo\n---\n\
         apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\nmetadata:\n  \
         name: nobody\n  namespace: mc-demo\nspec:\n  identities: []\n---\n\
         apiVersion: policy.linkerd.io/v1beta1\nkind: Server\nmetadata:\n  name: bb\n  \
         namespace: mc-demo\nspec:\n  podSelector:\n    matchLabels:\n      app: bb\n  \
         port: 8080\n  proxyProtocol: HTTP/3\n---\n\
         apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\nmetadata:\n  \
         name: good\n  namespace: mc-demo\nspec:\n  identities: [a.b]\n",
    )
    .unwrap();
    let store = MemoryStore::new();
    let loaded = strait_local::load(&store, &dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        loaded.errors,
        [
            "policy.yaml document 2: MeshTLSAuthentication.policy.linkerd.io \"nobody\" is invalid: \
             spec.identities: Invalid value: 0: spec.identities in body should have at least 1 items",
            "policy.yaml document 3: Server.policy.linkerd.io \"bb\" is invalid: \
             spec.proxyProtocol: Unsupported value: \"HTTP/3\": supported values: \"unknown\", \
             \"HTTP/1\", \"HTTP/2\", \"gRPC\", \"opaque\", \"TLS\"",
        ]
    );
    let names: Vec<String> = store
        .objects()
        .into_iter()
        .filter(|(kind, _)| kind.group == "policy.linkerd.io")
        .map(|(_, o)| o["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, ["good"]);
}
