//! Watches: what is requested, how the watcher's events come out, and how
//! gaps, failures and malformed objects are handled.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::runtime::utils::Backoff;
use parking_lot::Mutex;
use serde_json::json;
use strait_decisions::selector::{LabelSelector, Operator, Requirement};
use strait_store::{ClusterStore, Event, StoreError, WatchParams};
use tokio::sync::mpsc;

use super::api_server::mock_cluster;
use super::{failure, service_json};

type Events<K> = mpsc::Receiver<Result<Event<K>, StoreError>>;

/// Runs a watch in the background, so the test can play the API server
/// while the watch makes its requests.
fn spawn<K: Send + 'static>(
    mut watch: BoxStream<'static, Result<Event<K>, StoreError>>,
) -> Events<K> {
    // Far more events than any test makes: the watch never waits on the test.
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        while let Some(item) = watch.next().await {
            if tx.send(item).await.is_err() {
                break;
            }
        }
    });
    rx
}

async fn next<K>(events: &mut Events<K>) -> Result<Event<K>, StoreError> {
    tokio::time::timeout(Duration::from_secs(1), events.recv())
        .await
        .expect("an event within 1s")
        .expect("the watch goes on")
}

/// The event's shape and the names it carries.
fn names(event: Result<Event<Service>, StoreError>) -> (&'static str, Vec<String>) {
    let name = |s: &Service| s.metadata.name.clone().unwrap_or_default();
    match event.expect("an event, not an error") {
        Event::Apply(s) => ("apply", vec![name(&s)]),
        Event::Delete(s) => ("delete", vec![name(&s)]),
        Event::Reset(all) => ("reset", all.iter().map(name).collect()),
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// The same pause after every failure, short enough for tests.
struct Fixed(Duration);

impl Iterator for Fixed {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        Some(self.0)
    }
}

impl Backoff for Fixed {
    fn reset(&mut self) {}
}

const BACKOFF: Duration = Duration::from_millis(150);

#[tokio::test]
async fn lists_with_the_selector_then_watches_from_the_listed_version() {
    let (store, mut server) = mock_cluster();
    let params = WatchParams {
        namespace: Some("mc-demo".into()),
        labels: LabelSelector::from_labels([("mirror.linkerd.io/cluster-name", "east")]),
    };
    let mut events = spawn(store.watch::<Service>(params));

    let list = server.next().await;
    assert_eq!(list.method, http::Method::GET);
    assert_eq!(list.path, "/api/v1/namespaces/mc-demo/services");
    assert!(!list.is_watch(), "a watch starts with a list");
    assert_eq!(
        list.query.get("labelSelector").map(String::as_str),
        Some("mirror.linkerd.io/cluster-name=east")
    );
    list.respond_list(
        "100",
        vec![
            service_json("mc-demo", "a", "90"),
            service_json("mc-demo", "b", "95"),
        ],
    );
    assert_eq!(
        names(next(&mut events).await),
        ("reset", strings(&["a", "b"]))
    );

    let watch = server.next().await;
    assert!(watch.is_watch());
    assert_eq!(watch.path, "/api/v1/namespaces/mc-demo/services");
    assert_eq!(
        watch.query.get("labelSelector").map(String::as_str),
        Some("mirror.linkerd.io/cluster-name=east")
    );
    assert_eq!(
        watch.query.get("resourceVersion").map(String::as_str),
        Some("100"),
        "the watch continues from the list"
    );
    watch.respond_events(&[
        ("ADDED", service_json("mc-demo", "c", "101")),
        ("MODIFIED", service_json("mc-demo", "a", "102")),
        ("DELETED", service_json("mc-demo", "b", "103")),
        (
            "BOOKMARK",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"resourceVersion": "110"}}),
        ),
    ]);
    assert_eq!(names(next(&mut events).await), ("apply", strings(&["c"])));
    assert_eq!(names(next(&mut events).await), ("apply", strings(&["a"])));
    assert_eq!(names(next(&mut events).await), ("delete", strings(&["b"])));

    // The server ended the watch: strait resumes from the newest version
    // it saw (the bookmark's), without relisting.
    let resumed = server.next().await;
    assert!(
        resumed.is_watch(),
        "no relist after a clean end of the watch"
    );
    assert_eq!(
        resumed.query.get("resourceVersion").map(String::as_str),
        Some("110")
    );
}

#[tokio::test]
async fn without_a_namespace_or_for_cluster_scoped_kinds_the_whole_collection_is_watched() {
    let (store, mut server) = mock_cluster();
    let _events = spawn(store.watch::<Service>(WatchParams::all()));
    let list = server.next().await;
    assert_eq!(list.path, "/api/v1/services");
    assert_eq!(list.query.get("labelSelector"), None);

    let (store, mut server) = mock_cluster();
    let params = WatchParams {
        namespace: Some("mc-demo".into()),
        ..WatchParams::default()
    };
    let _events = spawn(store.watch::<Namespace>(params));
    assert_eq!(server.next().await.path, "/api/v1/namespaces");
}

#[tokio::test]
async fn an_expired_version_in_the_watch_stream_relists_into_a_fresh_reset() {
    let (store, mut server) = mock_cluster();
    let mut events = spawn(store.watch::<Service>(WatchParams::all()));
    server
        .next()
        .await
        .respond_list("10", vec![service_json("mc-demo", "a", "9")]);
    assert_eq!(names(next(&mut events).await), ("reset", strings(&["a"])));

    let gone = failure(410, "Expired", "too old resource version: 10 (50)");
    server.next().await.respond_events(&[("ERROR", gone)]);

    let relist = server.next().await;
    assert!(!relist.is_watch(), "a 410 is answered by a new list");
    relist.respond_list("60", vec![service_json("mc-demo", "b", "55")]);
    // Straight to the new set: an expired version is no failure.
    assert_eq!(names(next(&mut events).await), ("reset", strings(&["b"])));
    let watch = server.next().await;
    assert_eq!(
        watch.query.get("resourceVersion").map(String::as_str),
        Some("60")
    );
}

#[tokio::test]
async fn a_gone_response_to_a_watch_relists_into_a_fresh_reset() {
    let (store, mut server) = mock_cluster();
    let mut events = spawn(store.watch::<Service>(WatchParams::all()));
    server
        .next()
        .await
        .respond_list("10", vec![service_json("mc-demo", "a", "9")]);
    assert_eq!(names(next(&mut events).await), ("reset", strings(&["a"])));

    let watch = server.next().await;
    assert!(watch.is_watch());
    watch.respond(
        410,
        &failure(410, "Gone", "too old resource version: 10 (50)"),
    );

    let relist = server.next().await;
    assert!(
        !relist.is_watch(),
        "watching again from the expired version would fail forever"
    );
    relist.respond_list("60", vec![service_json("mc-demo", "b", "55")]);
    assert_eq!(names(next(&mut events).await), ("reset", strings(&["b"])));
}

#[tokio::test]
async fn failures_are_reported_and_the_watch_goes_on_after_the_backoff() {
    let (store, mut server) = mock_cluster();
    let store = store.with_watch_backoff(|| -> Box<dyn Backoff> { Box::new(Fixed(BACKOFF)) });
    let mut events = spawn(store.watch::<Service>(WatchParams::all()));

    let list = server.next().await;
    let failed = Instant::now();
    list.respond(500, &failure(500, "InternalError", "etcd is sad"));
    match next(&mut events).await {
        Err(StoreError::Unavailable { reason }) => {
            assert!(reason.contains("services in all namespaces"), "{reason}");
            assert!(reason.contains("etcd is sad"), "{reason}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let retry = server.next().await;
    assert!(failed.elapsed() >= BACKOFF, "retried before the backoff");
    assert!(!retry.is_watch());
    retry.respond_list("10", vec![service_json("mc-demo", "a", "9")]);
    assert_eq!(names(next(&mut events).await), ("reset", strings(&["a"])));

    // A connection lost when starting the watch: reported, then the watch
    // resumes from the version it had, with nothing relisted.
    drop(server.next().await);
    assert!(matches!(
        next(&mut events).await,
        Err(StoreError::Unavailable { .. })
    ));
    let resumed = server.next().await;
    assert!(resumed.is_watch());
    assert_eq!(
        resumed.query.get("resourceVersion").map(String::as_str),
        Some("10")
    );
}

/// Everything logged while it is alive, as text.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

#[tokio::test]
async fn malformed_objects_are_logged_and_skipped_while_the_others_come_through() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime runs every task on this thread, the watch's too.
    let _logging = tracing::subscriber::set_default(subscriber);

    let (store, mut server) = mock_cluster();
    let mut events = spawn(store.watch::<Service>(WatchParams::all()));
    let mut bad = service_json("mc-demo", "bad", "5");
    bad["spec"]["ports"] = json!("eighty");
    server.next().await.respond_list(
        "10",
        vec![
            service_json("mc-demo", "a", "3"),
            bad.clone(),
            service_json("mc-demo", "c", "7"),
        ],
    );
    assert_eq!(
        names(next(&mut events).await),
        ("reset", strings(&["a", "c"]))
    );

    bad["metadata"]["resourceVersion"] = json!("11");
    server.next().await.respond_events(&[
        ("MODIFIED", bad),
        ("ADDED", service_json("mc-demo", "d", "12")),
    ]);
    assert_eq!(names(next(&mut events).await), ("apply", strings(&["d"])));

    let text = log.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("skipping malformed object"))
        .collect();
    assert_eq!(warnings.len(), 2, "one warning per malformed copy:\n{text}");
    for warning in warnings {
        assert!(warning.contains("WARN"), "{warning}");
        assert!(warning.contains("kind=Service"), "{warning}");
        assert!(warning.contains("namespace=mc-demo"), "{warning}");
        assert!(warning.contains("name=bad"), "{warning}");
        assert!(
            warning.contains("invalid type"),
            "the serde error: {warning}"
        );
    }
}

#[tokio::test]
async fn an_invalid_selector_watches_nothing_and_asks_nothing() {
    let (store, mut server) = mock_cluster();
    let params = WatchParams {
        namespace: None,
        labels: LabelSelector {
            match_labels: Default::default(),
            match_expressions: vec![Requirement {
                key: "tier".into(),
                operator: Operator::In,
                values: Vec::new(),
            }],
        },
    };
    let mut events = spawn(store.watch::<Service>(params));
    assert_eq!(names(next(&mut events).await), ("reset", Vec::new()));
    server.expect_silence(Duration::from_millis(200)).await;
}
