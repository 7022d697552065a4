//! The election over the embedded store, in tokio's paused time: the
//! durations are the real ones, the tests take milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, StoredObject, WatchParams};
use tokio::sync::watch;
use tokio::time::Instant;

use super::*;

const NS: &str = "linkerd";
const LEASE_DURATION: Duration = Duration::from_secs(15);
const RENEW_DEADLINE: Duration = Duration::from_secs(10);
const RETRY: Duration = Duration::from_secs(2);
/// The longest pause between two attempts of a candidate (retry period
/// with the largest jitter).
const LONGEST_PAUSE: Duration = Duration::from_millis(4400);

/// The embedded store, with writes that can be made to fail, and that can
/// yield before writing so candidates interleave between read and write.
#[derive(Clone)]
struct TestStore {
    inner: MemoryStore,
    fail_writes: Arc<AtomicBool>,
    interleave: bool,
}

impl TestStore {
    fn new(inner: &MemoryStore, interleave: bool) -> Self {
        TestStore {
            inner: inner.clone(),
            fail_writes: Arc::new(AtomicBool::new(false)),
            interleave,
        }
    }
}

impl ClusterStore for TestStore {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        self.inner.watch(params)
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        self.inner.get(namespace, name).await
    }

    async fn apply<K: StoredObject>(&self, object: &K, manager: &str) -> Result<K, StoreError> {
        if self.interleave {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable {
                reason: "the API server is unreachable".into(),
            });
        }
        self.inner.apply(object, manager).await
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

async fn cluster() -> MemoryStore {
    let store = MemoryStore::new();
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(NS.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    store.apply(&namespace, "test").await.unwrap();
    store
}

fn config(identity: &str) -> LeaseConfig {
    LeaseConfig {
        lease_duration: LEASE_DURATION,
        renew_deadline: RENEW_DEADLINE,
        retry_period: RETRY,
        ..LeaseConfig::for_link(NS, "east", identity)
    }
}

fn candidate(store: &TestStore, identity: &str) -> Leadership {
    Elector::new(store.clone(), config(identity))
        .unwrap()
        .spawn()
}

/// The Lease's resourceVersion: it changes with every write, renewals
/// included.
async fn lease_version(store: &MemoryStore) -> Option<String> {
    store
        .get::<Lease>(NS, "service-mirror-write-east")
        .await
        .unwrap()
        .and_then(|l| l.metadata.resource_version)
}

async fn lease(store: &MemoryStore) -> LeaseSpec {
    store
        .get::<Lease>(NS, "service-mirror-write-east")
        .await
        .unwrap()
        .and_then(|l| l.spec)
        .unwrap_or_default()
}

/// Waits (in paused time) until `leadership` leads or `limit` passes;
/// returns how long it took.
async fn leads_within(leadership: &Leadership, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut leading = leadership.watch();
    tokio::time::timeout(limit, leading.wait_for(|l| *l))
        .await
        .ok()
        .map(|_| start.elapsed())
}

/// Samples every 10 ms for `span` that at most one of `candidates` leads;
/// returns how many samples found exactly one.
async fn never_two_leaders(candidates: &[Leadership], span: Duration) -> usize {
    let mut led = 0;
    let end = Instant::now() + span;
    while Instant::now() < end {
        let leaders = candidates.iter().filter(|c| c.is_leading()).count();
        assert!(leaders <= 1, "{leaders} candidates lead at once");
        led += usize::from(leaders == 1);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    led
}

#[test]
fn unsafe_timings_are_refused_with_the_reason() {
    let mut c = config("a");
    assert_eq!(c.name, "service-mirror-write-east");
    assert!(c.validate().is_ok());
    c.renew_deadline = LEASE_DURATION;
    let err = c.validate().unwrap_err().to_string();
    assert!(
        err.contains("renew deadline") && err.contains("linkerd/service-mirror-write-east"),
        "{err}"
    );
    let mut c = config("a");
    c.lease_duration = Duration::from_millis(15_500);
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("whole number of seconds")
    );
    let mut c = config("a");
    c.retry_period = RENEW_DEADLINE;
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("retry period")
    );
    assert!(
        config("")
            .validate()
            .unwrap_err()
            .to_string()
            .contains("holder identity")
    );
}

#[tokio::test(start_paused = true)]
async fn one_of_two_candidates_leads_and_keeps_leading() {
    let memory = cluster().await;
    let store = TestStore::new(&memory, false);
    let candidates = [candidate(&store, "pod-a"), candidate(&store, "pod-b")];
    tokio::time::sleep(Duration::from_secs(1)).await;
    let led = never_two_leaders(&candidates, Duration::from_secs(120)).await;
    assert!(led > 11_000, "a leader throughout, found in {led} samples");
    let leader = if candidates[0].is_leading() {
        "pod-a"
    } else {
        "pod-b"
    };
    let spec = lease(&memory).await;
    assert_eq!(spec.holder_identity.as_deref(), Some(leader));
    assert_eq!(spec.lease_duration_seconds, Some(15));
    assert_eq!(spec.lease_transitions, Some(0), "no fight over the lease");
    assert!(spec.acquire_time.is_some() && spec.renew_time.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_crashed_leader_is_succeeded_after_the_lease_duration() {
    let memory = cluster().await;
    let store = TestStore::new(&memory, false);
    let first = candidate(&store, "pod-a");
    assert!(leads_within(&first, Duration::from_secs(1)).await.is_some());
    let second = candidate(&store, "pod-b");
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(!second.is_leading(), "the lease is held and renewed");
    drop(first); // no release: a crash
    let took = leads_within(&second, Duration::from_secs(60))
        .await
        .expect("the second candidate takes over");
    // The crashed leader renewed at most a retry period before it stopped;
    // the successor waits a full lease duration from seeing that renewal.
    assert!(took >= LEASE_DURATION - RETRY, "took over after {took:?}");
    assert!(
        took <= LEASE_DURATION + 2 * LONGEST_PAUSE,
        "took over after {took:?}"
    );
    let spec = lease(&memory).await;
    assert_eq!(spec.holder_identity.as_deref(), Some("pod-b"));
    assert_eq!(spec.lease_transitions, Some(1));
}

#[tokio::test(start_paused = true)]
async fn a_released_lease_is_taken_over_at_once() {
    let memory = cluster().await;
    let store = TestStore::new(&memory, false);
    let first = candidate(&store, "pod-a");
    assert!(leads_within(&first, Duration::from_secs(1)).await.is_some());
    let second = candidate(&store, "pod-b");
    tokio::time::sleep(Duration::from_secs(20)).await;
    let mut first_leading = first.watch();
    first.release().await;
    assert!(
        !*first_leading.borrow_and_update(),
        "released means not leading"
    );
    assert_eq!(lease(&memory).await.holder_identity.as_deref(), Some(""));
    let took = leads_within(&second, Duration::from_secs(60))
        .await
        .expect("the second candidate takes over");
    assert!(
        took <= LONGEST_PAUSE,
        "took over after {took:?}, not at its next attempt"
    );
    assert_eq!(
        lease(&memory).await.holder_identity.as_deref(),
        Some("pod-b")
    );
}

#[tokio::test(start_paused = true)]
async fn candidates_writing_at_once_never_both_lead() {
    // One step: both read the free Lease, then both write; one write wins.
    let memory = cluster().await;
    let store = TestStore::new(&memory, true);
    let mut a = Elector::new(store.clone(), config("pod-a")).unwrap();
    let mut b = Elector::new(store.clone(), config("pod-b")).unwrap();
    a.try_acquire_or_renew().await.unwrap();
    a.release().await.unwrap();
    let (ra, rb) = tokio::join!(a.try_acquire_or_renew(), b.try_acquire_or_renew());
    let outcomes = [&ra, &rb];
    assert_eq!(
        outcomes
            .iter()
            .filter(|r| matches!(r, Ok(Attempt::Leading)))
            .count(),
        1,
        "{ra:?} {rb:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { .. })))
            .count(),
        1,
        "the loser's write conflicts: {ra:?} {rb:?}"
    );
    assert_eq!(usize::from(a.is_leader()) + usize::from(b.is_leader()), 1);
    let winner = if a.is_leader() { "pod-a" } else { "pod-b" };
    assert_eq!(
        lease(&memory).await.holder_identity.as_deref(),
        Some(winner)
    );

    // Five candidates racing for a Lease that does not exist yet, over
    // minutes of renewals and releases.
    let memory = cluster().await;
    let store = TestStore::new(&memory, true);
    let mut candidates: Vec<Leadership> = (0..5)
        .map(|i| candidate(&store, &format!("pod-{i}")))
        .collect();
    never_two_leaders(&candidates, Duration::from_secs(60)).await;
    for _ in 0..3 {
        let leader = candidates
            .iter()
            .position(Leadership::is_leading)
            .expect("someone leads");
        candidates.remove(leader).release().await;
        let led = never_two_leaders(&candidates, Duration::from_secs(30)).await;
        assert!(
            led > 2_000,
            "a successor leads soon after a release ({led} samples)"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_leader_that_cannot_write_steps_down_before_anyone_takes_over() {
    let memory = cluster().await;
    let broken = TestStore::new(&memory, false);
    let first = candidate(&broken, "pod-a");
    assert!(leads_within(&first, Duration::from_secs(1)).await.is_some());
    let second = candidate(&TestStore::new(&memory, false), "pod-b");
    tokio::time::sleep(Duration::from_secs(20)).await;
    // Writes fail right after a renewal (seen within 10 ms), so the Lease
    // the other candidate sees expires LEASE_DURATION after `failed`.
    let renewed = lease_version(&memory).await;
    while lease_version(&memory).await == renewed {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    broken.fail_writes.store(true, Ordering::SeqCst);
    let failed = Instant::now();
    let mut first_leading = first.watch();
    first_leading.wait_for(|l| !*l).await.unwrap();
    let stepped_down = failed.elapsed();
    assert!(
        stepped_down <= RENEW_DEADLINE + RETRY,
        "stepped down {stepped_down:?} after writes began to fail"
    );
    assert!(!second.is_leading(), "nobody else leads yet");
    leads_within(&second, Duration::from_secs(60))
        .await
        .expect("the other candidate takes over");
    // Not before the lease it last saw renewed expired: the old leader
    // stepped down, but may still be writing as it saw itself leading.
    let taken_over = failed.elapsed();
    assert!(
        taken_over + Duration::from_millis(10) >= LEASE_DURATION,
        "taken over {taken_over:?} after the last renewal, before the {LEASE_DURATION:?} lease expired"
    );
    assert!(!first.is_leading());
    // Writes work again: the old leader is a candidate, and does not lead.
    broken.fail_writes.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(second.is_leading() && !first.is_leading());
}

#[tokio::test(start_paused = true)]
async fn work_runs_only_while_leading_and_terms_never_overlap() {
    let (lead, leading) = watch::channel(false);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let running = Arc::new(AtomicUsize::new(0));
    let terms = Arc::new(AtomicUsize::new(0));
    let (r, t) = (running.clone(), terms.clone());
    let task = tokio::spawn(while_leading(leading, shutdown_rx, move |mut stop| {
        let (r, t) = (r.clone(), t.clone());
        async move {
            assert_eq!(r.fetch_add(1, Ordering::SeqCst), 0, "terms overlap");
            t.fetch_add(1, Ordering::SeqCst);
            let _ = stop.wait_for(|s| *s).await;
            // Stopping takes a while; the next term must wait for it.
            tokio::time::sleep(Duration::from_secs(1)).await;
            r.fetch_sub(1, Ordering::SeqCst);
        }
    }));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(terms.load(Ordering::SeqCst), 0, "no work before leading");
    lead.send_replace(true);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(running.load(Ordering::SeqCst), 1);
    lead.send_replace(false);
    lead.send_replace(true);
    tokio::time::sleep(Duration::from_millis(10)).await;
    // The lost term is still ending: the next has not started.
    assert_eq!(running.load(Ordering::SeqCst), 1);
    assert_eq!(terms.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(running.load(Ordering::SeqCst), 1);
    assert_eq!(terms.load(Ordering::SeqCst), 2);
    shutdown.send_replace(true);
    task.await.unwrap();
    assert_eq!(running.load(Ordering::SeqCst), 0, "shutdown stops the work");
}

#[test]
fn leadership_is_a_metric_per_link() {
    let metrics = crate::MirrorMetrics::default();
    metrics.set_leader("east", true);
    metrics.set_leader("west", false);
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("service_mirror_leader{link=\"east\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("service_mirror_leader{link=\"west\"} 0"),
        "{text}"
    );
}
