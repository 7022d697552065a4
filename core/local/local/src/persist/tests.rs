use k8s_openapi::api::core::v1::Service;
use serde_json::json;
use strait_store::{MemoryStore, ObjectRef, StoredKind};

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "strait-local-persist-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const BB: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: mc-demo
---
apiVersion: v1
kind: Service
metadata:
  name: bb
  namespace: mc-demo
spec:
  ports:
  - port: 8080
";

fn names(store: &MemoryStore, kind: &str) -> Vec<String> {
    store
        .objects()
        .into_iter()
        .filter(|(_, o)| o["kind"] == kind)
        .map(|(_, o)| {
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn runtime_changes_survive_a_restart_and_deleted_objects_stay_deleted() {
    let dir = temp_dir("restart");
    std::fs::write(dir.join("bb.yaml"), BB).unwrap();

    let first = MemoryStore::new();
    let loaded = load(&first, &dir).unwrap();
    assert_eq!(loaded.from_files, 2);
    // Applied while running: a second Service; deleted while running: bb.
    first
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "web", "namespace": "mc-demo"},
                   "spec": {"ports": [{"port": 80}]}}),
            "kubectl",
        )
        .unwrap();
    first
        .delete_ref(&ObjectRef {
            kind: StoredKind::of::<Service>(),
            namespace: "mc-demo".into(),
            name: "bb".into(),
        })
        .unwrap();
    save(&dir, &state_text(&first)).unwrap();

    let second = MemoryStore::new();
    let loaded = load(&second, &dir).unwrap();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(
        loaded.from_files, 0,
        "an unchanged file is not applied again"
    );
    assert_eq!(names(&second, "Service"), ["web"]);

    // Editing the file brings its objects back.
    std::fs::write(dir.join("bb.yaml"), BB.replace("8080", "9090")).unwrap();
    let third = MemoryStore::new();
    let loaded = load(&third, &dir).unwrap();
    assert_eq!(loaded.from_files, 2);
    let mut services = names(&third, "Service");
    services.sort();
    assert_eq!(services, ["bb", "web"]);
}

#[test]
fn pods_and_endpoints_are_not_saved() {
    let store = MemoryStore::new();
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
            "t",
        )
        .unwrap();
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"},
                   "spec": {"containers": [{"name": "c", "image": "x"}]}}),
            "t",
        )
        .unwrap();
    let text = state_text(&store);
    assert!(text.contains("kind: Namespace"), "{text}");
    assert!(!text.contains("kind: Pod"), "{text}");
    assert!(!text.contains("resourceVersion"), "{text}");
}

#[test]
fn a_bad_document_is_reported_with_its_file() {
    let dir = temp_dir("bad");
    std::fs::write(dir.join("broken.yaml"), "apiVersion: v1\nkind: [oops\n").unwrap();
    let loaded = load(&MemoryStore::new(), &dir).unwrap();
    assert_eq!(loaded.errors.len(), 1);
    assert!(
        loaded.errors[0].contains("broken.yaml"),
        "{:?}",
        loaded.errors
    );
}

#[test]
fn a_file_needing_a_later_file_applies_and_a_broken_one_is_retried_next_time() {
    let dir = temp_dir("order");
    // "a-" sorts before "b-", which defines the namespace "a-" needs.
    let service = BB.split("---\n").nth(1).unwrap();
    std::fs::write(dir.join("a-service.yaml"), service).unwrap();
    std::fs::write(
        dir.join("b-namespace.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: mc-demo\n",
    )
    .unwrap();
    std::fs::write(dir.join("c-broken.yaml"), "kind: [oops\n").unwrap();
    let store = MemoryStore::new();
    let loaded = load(&store, &dir).unwrap();
    assert_eq!(names(&store, "Service"), ["bb"]);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    let sources = std::fs::read_to_string(dir.join(SOURCES_FILE)).unwrap();
    assert!(sources.contains("a-service.yaml"), "{sources}");
    assert!(
        !sources.contains("c-broken.yaml"),
        "a failed file is not recorded: {sources}"
    );
}
