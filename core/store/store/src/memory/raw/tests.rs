use serde_json::json;

use super::*;
use crate::error::StoreError;

fn services() -> StoredKind {
    StoredKind {
        group: String::new(),
        kind: "Service".into(),
        plural: "services".into(),
        namespaced: true,
    }
}

fn service(name: &str, label: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "labels": {"l": label}},
        "spec": {"ports": [{"port": 80}]},
    })
}

fn rv(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn create_refuses_what_exists_and_update_needs_it() {
    let store = MemoryStore::new();
    store.create_value(service("bb", "a"), "test").unwrap();
    match store.create_value(service("bb", "a"), "test") {
        Err(StoreError::AlreadyExists { what }) => assert_eq!(what, "services \"bb\" in default"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    match store.update_value(service("nope", "a"), "test") {
        Err(StoreError::NotFound { what }) => assert_eq!(what, "services \"nope\" in default"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn an_update_replaces_the_object_but_keeps_status_uid_and_cluster_ip() {
    let store = MemoryStore::new();
    let created = store.create_value(service("bb", "a"), "test").unwrap();
    let mut status = (*created).clone();
    status["status"] = json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}});
    store.update_status_value(status, "test").unwrap();
    let mut next = service("bb", "b");
    next["metadata"]["labels"] = json!({"other": "x"});
    next["status"] = json!({"ignored": true});
    let updated = store.update_value(next, "test").unwrap();
    assert_eq!(updated["metadata"]["labels"], json!({"other": "x"}));
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(updated["spec"]["clusterIP"], created["spec"]["clusterIP"]);
    assert_eq!(
        updated["status"]["loadBalancer"]["ingress"][0]["ip"],
        "1.2.3.4"
    );
    assert!(rv(&updated) > rv(&created));
}

#[test]
fn an_update_against_a_stale_resource_version_conflicts() {
    let store = MemoryStore::new();
    let created = store.create_value(service("bb", "a"), "test").unwrap();
    store.update_value(service("bb", "b"), "test").unwrap();
    let mut stale = service("bb", "c");
    stale["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    assert!(matches!(
        store.update_value(stale, "test"),
        Err(StoreError::Conflict { .. })
    ));
}

#[tokio::test]
async fn a_watch_from_a_listed_version_replays_exactly_what_came_after() {
    let store = MemoryStore::new();
    store.create_value(service("a", "1"), "test").unwrap();
    let (items, listed) = store.list_values(&services(), Some("default"));
    assert_eq!(items.len(), 1);
    store.create_value(service("b", "1"), "test").unwrap();
    store.delete_value(&services(), "default", "a").unwrap();
    let mut watch = store.watch_values(&services(), Some(listed)).unwrap();
    let first = watch.next().await.unwrap();
    assert_eq!(first.change_type, ChangeType::Added);
    assert_eq!(first.object["metadata"]["name"], "b");
    let second = watch.next().await.unwrap();
    assert_eq!(second.change_type, ChangeType::Deleted);
    assert_eq!(second.object["metadata"]["name"], "a");
    assert_eq!(rv(&second.object), second.revision);
    store.update_value(service("b", "2"), "test").unwrap();
    let third = watch.next().await.unwrap();
    assert_eq!(third.change_type, ChangeType::Modified);
    assert_eq!(third.object["metadata"]["labels"]["l"], "2");
}

#[tokio::test]
async fn a_watch_without_a_version_starts_with_every_object_added() {
    let store = MemoryStore::new();
    store.create_value(service("a", "1"), "test").unwrap();
    store.create_value(service("b", "1"), "test").unwrap();
    let mut watch = store.watch_values(&services(), None).unwrap();
    let names: Vec<String> = [watch.next().await.unwrap(), watch.next().await.unwrap()]
        .iter()
        .map(|c| {
            assert_eq!(c.change_type, ChangeType::Added);
            c.object["metadata"]["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn a_version_older_than_the_history_is_gone() {
    let store = MemoryStore::new();
    store.create_value(service("a", "0"), "test").unwrap();
    let (_, listed) = store.list_values(&services(), None);
    for i in 0..super::super::HISTORY + 1 {
        store
            .update_value(service("a", &i.to_string()), "test")
            .unwrap();
    }
    match store.watch_values(&services(), Some(listed)) {
        Err(WatchError::Gone { asked, oldest }) => {
            assert_eq!(asked, listed);
            assert!(oldest > listed);
        }
        Ok(_) => panic!("a watch from a version out of the history must be Gone"),
    }
    let (_, now) = store.list_values(&services(), None);
    assert!(store.watch_values(&services(), Some(now)).is_ok());
}

#[tokio::test]
async fn a_bookmark_carries_the_store_revision_once_everything_is_told() {
    let store = MemoryStore::new();
    let (_, listed) = store.list_values(&services(), None);
    let mut watch = store.watch_values(&services(), Some(listed)).unwrap();
    store.create_value(service("a", "1"), "test").unwrap();
    assert_eq!(watch.bookmark(), None, "a change is waiting");
    let change = watch.next().await.unwrap();
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}});
    store.apply_json(namespace, "test").unwrap();
    let bookmark = watch.bookmark().unwrap();
    assert!(bookmark > change.revision, "other kinds' writes move it on");
    assert_eq!(bookmark, store.revision());
}
