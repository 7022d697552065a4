use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::ConfigMap;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::*;
use crate::{MemoryStore, Reachability, Reachable, StoreError};

/// An index of ConfigMaps (`namespace/name`) that logs each call it gets,
/// so a test sees which call each event became and with what.
#[derive(Debug, Default)]
struct Names {
    names: std::collections::BTreeSet<String>,
    calls: Vec<String>,
}

fn name_of(map: &ConfigMap) -> String {
    format!(
        "{}/{}",
        map.metadata.namespace.as_deref().unwrap_or_default(),
        map.metadata.name.as_deref().unwrap_or_default()
    )
}

impl Names {
    fn apply_config_map(&mut self, map: &ConfigMap) {
        let name = name_of(map);
        self.calls.push(format!("apply {name}"));
        self.names.insert(name);
    }

    fn delete_config_map(&mut self, namespace: &str, name: &str) {
        let name = format!("{namespace}/{name}");
        self.calls.push(format!("delete {name}"));
        self.names.remove(&name);
    }

    fn reset_config_maps(&mut self, maps: impl IntoIterator<Item = ConfigMap>) {
        self.names = maps.into_iter().map(|map| name_of(&map)).collect();
        let all: Vec<&str> = self.names.iter().map(String::as_str).collect();
        self.calls.push(format!("reset {}", all.join(" ")));
    }
}

crate::indexes! {
    /// The test index as ConfigMaps feed it.
    struct Fed(Names) {
        ConfigMap => apply_config_map, delete_config_map, reset_config_maps;
    }
}

const LABEL: (&str, &str) = ("app", "bb");

fn config_map(name: &str, labelled: bool) -> serde_json::Value {
    let labels = if labelled {
        serde_json::json!({LABEL.0: LABEL.1})
    } else {
        serde_json::json!({})
    };
    serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
    })
}

/// A store with the `default` namespace, the labelled ConfigMap `before`
/// and the unlabelled `other`, which the tests' watch does not select.
fn store() -> MemoryStore {
    let store = MemoryStore::new();
    for object in [
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        config_map("before", true),
        config_map("other", false),
    ] {
        store.apply_json(object, "test").unwrap();
    }
    store
}

/// Follows the labelled ConfigMaps of `store` into a fresh [`Names`],
/// sending the call each event became, as a feed tells its readers. The
/// follow-up work of each event waits for a permit of `gate`.
fn spawn_follow<S: ClusterStore>(
    store: S,
    gate: Arc<Semaphore>,
) -> (JoinHandle<()>, mpsc::Receiver<String>) {
    // Each test reads every call before causing the next few, so a small
    // buffer never fills; a full one fails the test instead of blocking.
    let (calls, received) = mpsc::channel(64);
    let task = tokio::spawn(async move {
        let mut index = Names::default();
        let params = WatchParams::labelled(LABEL.0, LABEL.1);
        follow(&store, params, |event: Event<ConfigMap>| {
            Fed(&mut index).apply_event(event);
            let call = index.calls.last().cloned().unwrap_or_default();
            let sent = calls.try_send(call);
            let gate = gate.clone();
            async move {
                assert!(
                    sent.is_ok(),
                    "the test stopped listening or fell 64 calls behind"
                );
                let _permit = gate.acquire().await;
            }
        })
        .await;
    });
    (task, received)
}

fn open_gate() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(Semaphore::MAX_PERMITS))
}

async fn next(calls: &mut mpsc::Receiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(30), calls.recv())
        .await
        .expect("no event within 30s")
        .expect("the follow loop stopped")
}

#[tokio::test(start_paused = true)]
async fn a_watch_resets_the_index_then_applies_and_deletes_each_change() {
    let store = store();
    let (task, mut calls) = spawn_follow(store.clone(), open_gate());
    assert_eq!(next(&mut calls).await, "reset default/before");

    store.apply_json(config_map("after", true), "test").unwrap();
    assert_eq!(next(&mut calls).await, "apply default/after");
    store
        .delete::<ConfigMap>("default", "before")
        .await
        .unwrap();
    assert_eq!(next(&mut calls).await, "delete default/before");
    // Unselected objects never reach the index.
    store
        .apply_json(config_map("another", false), "test")
        .unwrap();
    store.apply_json(config_map("last", true), "test").unwrap();
    assert_eq!(next(&mut calls).await, "apply default/last");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn the_next_event_waits_for_the_follow_up_work_of_the_last() {
    let store = store();
    let gate = Arc::new(Semaphore::new(0));
    let (task, mut calls) = spawn_follow(store.clone(), gate.clone());
    assert_eq!(next(&mut calls).await, "reset default/before");

    store.apply_json(config_map("after", true), "test").unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        calls.try_recv().is_err(),
        "an event was taken while the follow-up work of the last was running"
    );
    gate.add_permits(1);
    assert_eq!(next(&mut calls).await, "apply default/after");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn an_outage_is_ridden_out_and_the_index_reset_with_what_changed_during_it() {
    let inner = store();
    let switch = Reachability::new();
    let remote = Reachable::new(inner.clone(), switch.clone());
    let (task, mut calls) = spawn_follow(remote, open_gate());
    assert_eq!(next(&mut calls).await, "reset default/before");

    switch.cut();
    inner
        .apply_json(config_map("during", true), "test")
        .unwrap();
    inner
        .apply_json(config_map("unselected", false), "test")
        .unwrap();
    // Long enough for several attempts to watch again to fail.
    tokio::time::sleep(REWATCH_BACKOFF * 5).await;
    assert!(
        calls.try_recv().is_err(),
        "an event arrived during the outage"
    );
    switch.restore();

    // What changed meanwhile arrives as a fresh listing of what the watch
    // selects.
    assert_eq!(
        next(&mut calls).await,
        "reset default/before default/during"
    );
    task.abort();
}

/// How [`Interrupted`] ends its first watch.
#[derive(Clone, Copy)]
enum Interruption {
    /// With an error, as when the connection to the API server drops.
    Fails,
    /// Without one, as an API server ends a watch at its timeout.
    Ends,
}

/// A store whose first watch is interrupted after its opening `Reset`;
/// later watches are `inner`'s.
#[derive(Clone)]
struct Interrupted {
    inner: MemoryStore,
    how: Interruption,
    interrupted: Arc<AtomicBool>,
}

impl Interrupted {
    fn new(inner: MemoryStore, how: Interruption) -> Self {
        Interrupted {
            inner,
            how,
            interrupted: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl ClusterStore for Interrupted {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        let events = self.inner.watch::<K>(params);
        if self.interrupted.swap(true, Ordering::SeqCst) {
            return events;
        }
        let opening = events.take(1);
        match self.how {
            Interruption::Ends => opening.boxed(),
            Interruption::Fails => opening
                .chain(futures::stream::once(async {
                    Err(StoreError::Unavailable {
                        reason: "connection reset".into(),
                    })
                }))
                .boxed(),
        }
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        self.inner.get(namespace, name).await
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<K, StoreError> {
        self.inner.apply(object, field_manager).await
    }

    async fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: serde_json::Value,
    ) -> Result<K, StoreError> {
        self.inner.patch_status(namespace, name, status).await
    }

    async fn delete<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<(), StoreError> {
        self.inner.delete::<K>(namespace, name).await
    }
}

/// Follows a store whose first watch is interrupted `how`, and checks
/// that the next event is a fresh listing, taken no sooner than the
/// backoff after the interruption.
async fn watched_again_after_the_backoff(how: Interruption) {
    let inner = store();
    let (task, mut calls) = spawn_follow(Interrupted::new(inner.clone(), how), open_gate());
    assert_eq!(next(&mut calls).await, "reset default/before");
    let interrupted_at = Instant::now();

    inner.apply_json(config_map("after", true), "test").unwrap();
    assert_eq!(next(&mut calls).await, "reset default/after default/before");
    assert!(
        interrupted_at.elapsed() >= REWATCH_BACKOFF,
        "watched again after {:?}",
        interrupted_at.elapsed()
    );
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_failed_watch_is_opened_again_after_the_backoff() {
    watched_again_after_the_backoff(Interruption::Fails).await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_that_ends_is_opened_again_after_the_backoff() {
    watched_again_after_the_backoff(Interruption::Ends).await;
}
