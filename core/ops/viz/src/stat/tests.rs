use std::time::{Duration, SystemTime};

use super::*;
use crate::tests::sample;
use crate::{Sample, Scrape};

fn responses(success: f64, failure: f64) -> Vec<Sample> {
    vec![
        sample(
            "response_total",
            &[("direction", "inbound"), ("classification", "success")],
            success,
        ),
        sample(
            "response_total",
            &[("direction", "inbound"), ("classification", "failure")],
            failure,
        ),
        // Outbound traffic is not the pod's.
        sample(
            "response_total",
            &[("direction", "outbound"), ("classification", "failure")],
            1e6,
        ),
    ]
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
}

fn pod(
    name: &str,
    deployment: &str,
    first: Option<Vec<Sample>>,
    last: Option<Vec<Sample>>,
) -> PodScrapes {
    PodScrapes {
        namespace: "ns".into(),
        pod: name.into(),
        deployment: Some(deployment.into()),
        replicaset: Some(format!("{deployment}-5d4f")),
        statefulset: None,
        meshed: true,
        ready: true,
        first: first.map(|samples| Scrape { at: at(0), samples }),
        last: last.map(|samples| Scrape {
            at: at(20),
            samples,
        }),
    }
}

fn query(resource: ResourceKind, name: Option<&str>) -> Query {
    Query {
        namespace: Some("ns".into()),
        resource,
        name: name.map(str::to_owned),
        window: Duration::from_secs(60),
    }
}

#[test]
fn rates_sum_over_a_deployments_pods() {
    let pods = [
        pod(
            "a-1",
            "a",
            Some(responses(100.0, 0.0)),
            Some(responses(160.0, 20.0)),
        ),
        pod(
            "a-2",
            "a",
            Some(responses(0.0, 0.0)),
            Some(responses(20.0, 0.0)),
        ),
    ];
    let rows = stat_from_scrapes(&query(ResourceKind::Deployment, None), &pods);
    assert_eq!(rows.len(), 1);
    let stats = rows[0].stats.as_ref().unwrap();
    // (60 + 20 + 20) responses in 20 s; 80 of 100 succeeded.
    assert!((stats.request_rate - 5.0).abs() < 1e-9);
    assert!((stats.success_rate - 0.8).abs() < 1e-9);
    assert_eq!(rows[0].meshed(), "2/2");
}

#[test]
fn a_reset_counter_counts_from_zero() {
    // The proxy restarted: 500 before, 40 after.
    let pods = [pod(
        "a-1",
        "a",
        Some(responses(500.0, 10.0)),
        Some(responses(40.0, 0.0)),
    )];
    let rows = stat_from_scrapes(&query(ResourceKind::Deployment, None), &pods);
    let stats = rows[0].stats.as_ref().unwrap();
    assert!((stats.request_rate - 2.0).abs() < 1e-9, "{stats:?}");
    assert!((stats.success_rate - 1.0).abs() < 1e-9);
}

#[test]
fn a_series_new_in_the_window_counts_from_zero() {
    let pods = [pod("a-1", "a", Some(vec![]), Some(responses(30.0, 10.0)))];
    let stats = stat_from_scrapes(&query(ResourceKind::Deployment, None), &pods)[0]
        .stats
        .clone()
        .unwrap();
    assert!((stats.request_rate - 2.0).abs() < 1e-9);
    assert!((stats.success_rate - 0.75).abs() < 1e-9);
}

#[test]
fn no_traffic_without_two_scrapes_or_new_responses() {
    let pods = [
        pod("a-1", "a", None, Some(responses(30.0, 0.0))),
        pod(
            "b-1",
            "b",
            Some(responses(30.0, 0.0)),
            Some(responses(30.0, 0.0)),
        ),
    ];
    let rows = stat_from_scrapes(&query(ResourceKind::Deployment, None), &pods);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.stats.is_none()), "{rows:?}");
}

#[test]
fn unmeshed_resources_are_left_out_and_filters_apply() {
    let mut unmeshed = pod("c-1", "c", None, None);
    unmeshed.meshed = false;
    let mut other_ns = pod("a-9", "a", None, None);
    other_ns.namespace = "elsewhere".into();
    let mut half = pod("a-2", "a", None, None);
    half.meshed = false;
    half.ready = false;
    let pods = [
        pod("a-1", "a", None, None),
        half,
        unmeshed,
        other_ns,
        pod("b-1", "b", None, None),
    ];
    let rows = stat_from_scrapes(&query(ResourceKind::Deployment, None), &pods);
    let names: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.meshed())).collect();
    assert_eq!(names, [("a", "1/2".to_owned()), ("b", "1/1".to_owned())]);

    let rows = stat_from_scrapes(&query(ResourceKind::Deployment, Some("b")), &pods);
    assert_eq!(rows.len(), 1);

    let rows = stat_from_scrapes(&query(ResourceKind::Pod, None), &pods);
    let names: Vec<_> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.status.as_deref()))
        .collect();
    assert_eq!(names, [("a-1", Some("Running")), ("b-1", Some("Running"))]);

    let all = Query {
        namespace: None,
        ..query(ResourceKind::Deployment, None)
    };
    let rows = stat_from_scrapes(&all, &pods);
    let keys: Vec<_> = rows
        .iter()
        .map(|r| (r.namespace.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(keys, [("elsewhere", "a"), ("ns", "a"), ("ns", "b")]);
}

#[test]
fn latency_and_connections() {
    let buckets = |fast: f64, slow: f64| {
        vec![
            sample(
                "response_latency_ms_bucket",
                &[("direction", "inbound"), ("le", "10.0")],
                fast,
            ),
            sample(
                "response_latency_ms_bucket",
                &[("direction", "inbound"), ("le", "20.0")],
                fast + slow,
            ),
            sample(
                "response_latency_ms_bucket",
                &[("direction", "inbound"), ("le", "+Inf")],
                fast + slow,
            ),
            sample("tcp_open_connections", &[("direction", "inbound")], 4.0),
            sample("tcp_open_connections", &[("direction", "outbound")], 9.0),
        ]
    };
    let mut first = responses(0.0, 0.0);
    first.extend(buckets(1000.0, 1000.0));
    let mut last = responses(100.0, 0.0);
    last.extend(buckets(1090.0, 1010.0));
    let rows = stat_from_scrapes(
        &query(ResourceKind::Deployment, None),
        &[pod("a-1", "a", Some(first), Some(last))],
    );
    let stats = rows[0].stats.as_ref().unwrap();
    // Only the increases count: 90 under 10 ms, 10 in (10, 20].
    assert_eq!(stats.latency_ms_p50, 6); // 10 * 50 / 90 = 5.6
    assert_eq!(stats.latency_ms_p95, 15);
    assert_eq!(stats.latency_ms_p99, 19);
    assert_eq!(stats.tcp_open_connections, 4);
}

/// ReplicaSets and namespaces group the same pods as their deployments;
/// StatefulSets group only pods a StatefulSet controls.
#[test]
fn replicasets_statefulsets_and_namespaces_group_their_pods() {
    let mut web_0 = pod(
        "web-0",
        "unused",
        Some(responses(0.0, 0.0)),
        Some(responses(40.0, 0.0)),
    );
    web_0.deployment = None;
    web_0.replicaset = None;
    web_0.statefulset = Some("web".into());
    let pods = [
        pod(
            "a-1",
            "a",
            Some(responses(100.0, 0.0)),
            Some(responses(160.0, 20.0)),
        ),
        web_0,
    ];
    let by = |kind| stat_from_scrapes(&query(kind, None), &pods);
    let names = |rows: Vec<StatRow>| -> Vec<(String, String, Option<f64>)> {
        rows.into_iter()
            .map(|r| (r.name.clone(), r.meshed(), r.stats.map(|s| s.request_rate)))
            .collect()
    };
    assert_eq!(
        names(by(ResourceKind::ReplicaSet)),
        [("a-5d4f".to_owned(), "1/1".to_owned(), Some(4.0))]
    );
    assert_eq!(
        names(by(ResourceKind::StatefulSet)),
        [("web".to_owned(), "1/1".to_owned(), Some(2.0))]
    );
    let mut all = query(ResourceKind::Namespace, None);
    all.namespace = None;
    let rows = stat_from_scrapes(&all, &pods);
    assert_eq!(
        names(rows),
        [("ns".to_owned(), "2/2".to_owned(), Some(6.0))]
    );
    // One by name.
    assert_eq!(
        names(stat_from_scrapes(
            &query(ResourceKind::StatefulSet, Some("web")),
            &pods
        ))
        .len(),
        1
    );
    assert!(stat_from_scrapes(&query(ResourceKind::StatefulSet, Some("a")), &pods).is_empty());
}
