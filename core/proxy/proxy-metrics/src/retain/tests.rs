use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use crate::{Labels, ProxyMetrics, RequestSeries, Retention};

fn text(metrics: &ProxyMetrics) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut out = String::new();
    encode(&mut out, &registry).unwrap();
    out
}

fn authority(name: &str) -> crate::LabelSet {
    Labels::inbound().with("authority", name).build()
}

/// A request answered 200 through a fresh series of `name`, which is
/// dropped after it: nothing holds its series any more.
fn one_request(metrics: &ProxyMetrics, name: &str) {
    let series = RequestSeries::new(metrics, authority(name));
    series.request();
    series.latency(200, 1.0);
    series.response(200, true);
}

fn families_with(metrics: &ProxyMetrics, name: &str) -> usize {
    text(metrics)
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(&format!("authority=\"{name}\"")))
        .count()
}

#[tokio::test(start_paused = true)]
async fn a_series_nothing_holds_goes_after_the_idle_period_and_not_before() {
    let metrics = ProxyMetrics::new();
    assert_eq!(metrics.retention().idle, Duration::from_secs(600));
    one_request(&metrics, "gone:80");
    let held = RequestSeries::new(&metrics, authority("held:80"));
    held.request();
    held.response(503, false);
    assert!(families_with(&metrics, "gone:80") > 0);

    tokio::time::advance(Duration::from_secs(9 * 60)).await;
    metrics.evict_idle();
    assert!(families_with(&metrics, "gone:80") > 0, "evicted too early");

    tokio::time::advance(Duration::from_secs(61)).await;
    metrics.evict_idle();
    // Every family's series of the label set go: requests, responses by
    // status and classification, latencies.
    assert_eq!(families_with(&metrics, "gone:80"), 0, "{}", text(&metrics));
    // What is still held stays, however long it was idle.
    assert!(families_with(&metrics, "held:80") > 0);
    assert_eq!(metrics.tracked_series(), 1);
    held.request();
    assert!(
        text(&metrics).contains("request_total{direction=\"inbound\",authority=\"held:80\"} 2")
    );
}

#[tokio::test(start_paused = true)]
async fn a_series_used_again_before_the_idle_period_is_kept_and_counts_on() {
    let metrics = ProxyMetrics::new();
    one_request(&metrics, "back:80");
    tokio::time::advance(Duration::from_secs(8 * 60)).await;
    one_request(&metrics, "back:80");
    tokio::time::advance(Duration::from_secs(8 * 60)).await;
    metrics.evict_idle();
    assert!(
        text(&metrics).contains("request_total{direction=\"inbound\",authority=\"back:80\"} 2"),
        "{}",
        text(&metrics)
    );
}

#[tokio::test(start_paused = true)]
async fn past_the_cap_the_longest_idle_go_at_once() {
    let metrics = ProxyMetrics::with_retention(Retention {
        max_series: 16,
        ..Retention::default()
    });
    let held: Vec<RequestSeries> = (0..4)
        .map(|i| {
            let series = RequestSeries::new(&metrics, authority(&format!("held-{i}:80")));
            series.request();
            series
        })
        .collect();
    for i in 0..200 {
        one_request(&metrics, &format!("made-up-{i}:80"));
        tokio::time::advance(Duration::from_millis(10)).await;
    }
    assert!(
        metrics.tracked_series() <= 16,
        "{}",
        metrics.tracked_series()
    );
    let out = text(&metrics);
    let series = out
        .lines()
        .filter(|l| l.starts_with("request_total{"))
        .count();
    assert!(series <= 16, "{out}");
    // The newest stay, the oldest went; held series are never taken.
    assert!(out.contains("authority=\"made-up-199:80\""), "{out}");
    assert!(!out.contains("authority=\"made-up-0:80\""), "{out}");
    for i in 0..4 {
        assert!(out.contains(&format!("authority=\"held-{i}:80\"")), "{out}");
    }
    drop(held);
}

#[tokio::test(start_paused = true)]
async fn held_series_past_the_cap_are_kept() {
    let metrics = ProxyMetrics::with_retention(Retention {
        max_series: 4,
        ..Retention::default()
    });
    let held: Vec<RequestSeries> = (0..10)
        .map(|i| {
            let series = RequestSeries::new(&metrics, authority(&format!("held-{i}:80")));
            series.request();
            series
        })
        .collect();
    assert_eq!(metrics.tracked_series(), 10);
    for series in &held {
        series.request();
    }
    let out = text(&metrics);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("request_total{") && l.ends_with(" 2"))
            .count(),
        10,
        "{out}"
    );
    drop(held);
    // Released, they are over the cap: the next series made evicts them.
    one_request(&metrics, "next:80");
    assert!(
        metrics.tracked_series() <= 4,
        "{}",
        metrics.tracked_series()
    );
}

#[tokio::test(start_paused = true)]
async fn a_lease_taken_again_after_eviction_counts_from_zero() {
    let metrics = ProxyMetrics::with_retention(Retention {
        idle: Duration::ZERO,
        ..Retention::default()
    });
    one_request(&metrics, "again:80");
    metrics.evict_idle();
    assert_eq!(families_with(&metrics, "again:80"), 0);
    one_request(&metrics, "again:80");
    assert!(
        text(&metrics).contains("request_total{direction=\"inbound\",authority=\"again:80\"} 1")
    );
    // A lease's own labels and the metric it makes.
    let lease = metrics.lease(authority("lease:80"));
    assert_eq!(lease.labels(), &authority("lease:80"));
    lease.metric(&metrics.tcp_open_total).inc();
    lease
        .metric_with(
            &metrics.tcp_close_total,
            vec![("errno".to_string(), "EPIPE".to_string())],
        )
        .inc();
    drop(lease);
    metrics.evict_idle();
    assert_eq!(families_with(&metrics, "lease:80"), 0, "{}", text(&metrics));
}
