use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;

use super::*;
use crate::MemoryStore;

fn config_map(name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
    })
}

fn store() -> MemoryStore {
    let store = MemoryStore::new();
    store
        .apply_json(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
            "test",
        )
        .unwrap();
    store.apply_json(config_map("before"), "test").unwrap();
    store
}

fn names(event: &Event<ConfigMap>) -> Vec<String> {
    match event {
        Event::Reset(all) => all.iter().filter_map(|c| c.metadata.name.clone()).collect(),
        Event::Apply(one) | Event::Delete(one) => one.metadata.name.clone().into_iter().collect(),
    }
}

#[tokio::test]
async fn a_cut_fails_requests_and_open_watches_and_a_restore_resyncs() {
    let inner = store();
    let switch = Reachability::new();
    let remote = Reachable::new(inner.clone(), switch.clone());

    let mut watch = remote.watch::<ConfigMap>(WatchParams::all());
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(names(&first), ["before"]);

    switch.cut();
    let failed = watch.next().await.unwrap();
    assert!(
        matches!(failed, Err(StoreError::Unavailable { .. })),
        "{failed:?}"
    );
    assert!(watch.next().await.is_none(), "a failed watch ends");
    let read = remote.get::<ConfigMap>("default", "before").await;
    assert!(
        matches!(read, Err(StoreError::Unavailable { .. })),
        "{read:?}"
    );

    // A watch opened during the outage fails after a while.
    let mut during = remote.watch::<ConfigMap>(WatchParams::all());
    let refused = during.next().await.unwrap();
    assert!(
        matches!(refused, Err(StoreError::Unavailable { .. })),
        "{refused:?}"
    );

    // What changed meanwhile is in the first event after the restore.
    inner.apply_json(config_map("during"), "test").unwrap();
    switch.restore();
    let mut after = remote.watch::<ConfigMap>(WatchParams::all());
    let mut seen = names(&after.next().await.unwrap().unwrap());
    seen.sort();
    assert_eq!(seen, ["before", "during"]);
    assert!(
        remote
            .get::<ConfigMap>("default", "during")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_watch_opened_during_an_outage_fails_even_if_the_outage_ends_meanwhile() {
    let switch = Reachability::new();
    let remote = Reachable::new(store(), switch.clone());
    switch.cut();
    let mut watch = remote.watch::<ConfigMap>(WatchParams::all());
    let restore = switch.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        restore.restore();
    });
    let started = std::time::Instant::now();
    let refused = watch.next().await.unwrap();
    assert!(
        matches!(refused, Err(StoreError::Unavailable { .. })),
        "{refused:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // The next attempt, made after the restore, succeeds.
    let mut again = remote.watch::<ConfigMap>(WatchParams::all());
    assert_eq!(names(&again.next().await.unwrap().unwrap()), ["before"]);
}
