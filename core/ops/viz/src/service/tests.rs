use std::time::{Duration, SystemTime};

use super::*;
use crate::tests::sample;
use crate::{Scrape, format_stat_for};

/// A client's outbound series to `service` (in `ns`), and an inbound one
/// that is the client's own traffic, not the Service's.
fn sent(service: &str, success: f64, failure: f64, latency_le_10: f64) -> Vec<Sample> {
    let to = |extra: &[(&'static str, &'static str)]| {
        let mut labels = vec![
            ("direction", "outbound"),
            ("dst_namespace", "ns"),
            ("dst_service", service),
        ];
        labels.extend_from_slice(extra);
        labels
    };
    vec![
        sample(
            "response_total",
            &to(&[("classification", "success")]),
            success,
        ),
        sample(
            "response_total",
            &to(&[("classification", "failure")]),
            failure,
        ),
        sample(
            "response_latency_ms_bucket",
            &to(&[("le", "10")]),
            latency_le_10,
        ),
        sample(
            "response_latency_ms_bucket",
            &to(&[("le", "+Inf")]),
            success + failure,
        ),
        sample("tcp_open_connections", &to(&[]), 2.0),
        sample(
            "response_total",
            &[("direction", "inbound"), ("classification", "failure")],
            1e6,
        ),
    ]
}

fn client(name: &str, first: Vec<Sample>, last: Vec<Sample>) -> PodScrapes {
    let at = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs);
    PodScrapes {
        namespace: "ns".into(),
        pod: name.into(),
        deployment: Some("slow-cooker".into()),
        replicaset: None,
        statefulset: None,
        meshed: true,
        ready: true,
        first: Some(Scrape {
            at: at(0),
            samples: first,
        }),
        last: Some(Scrape {
            at: at(10),
            samples: last,
        }),
    }
}

fn services() -> Vec<ServiceRef> {
    ["bb", "idle"]
        .into_iter()
        .map(|name| ServiceRef {
            namespace: "ns".into(),
            name: name.into(),
        })
        .collect()
}

fn query(name: Option<&str>) -> Query {
    Query {
        namespace: Some("ns".into()),
        resource: ResourceKind::Service,
        name: name.map(str::to_owned),
        window: Duration::from_secs(60),
    }
}

#[test]
fn a_services_traffic_is_what_its_clients_sent_it() {
    let pods = [
        client(
            "sc-1",
            sent("bb", 0.0, 0.0, 0.0),
            sent("bb", 90.0, 10.0, 100.0),
        ),
        client(
            "sc-2",
            sent("bb", 0.0, 0.0, 0.0),
            sent("bb", 100.0, 0.0, 100.0),
        ),
    ];
    let rows = service_stat_from_scrapes(&query(None), &services(), &pods);
    // Every Service is listed, with or without traffic.
    assert_eq!(rows.len(), 2);
    let bb = &rows[0];
    assert_eq!((bb.name.as_str(), bb.meshed().as_str()), ("bb", "-"));
    let stats = bb.stats.as_ref().expect("bb had traffic");
    assert!((stats.success_rate - 0.95).abs() < 1e-9, "{stats:?}");
    assert!((stats.request_rate - 20.0).abs() < 1e-9, "{stats:?}");
    assert_eq!(stats.tcp_open_connections, 4);
    assert!(stats.latency_ms_p50 <= 10, "{stats:?}");
    assert!(rows[1].stats.is_none());

    let table = format_stat_for(&query(None), &rows, crate::Output::Table);
    assert_eq!(
        table,
        "NAME   MESHED   SUCCESS       RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN\n\
         bb          -    95.00%   20.0rps           5ms          10ms          10ms          4\n\
         idle        -         -         -             -             -             -          -\n"
    );
    // One by name; a name no Service has, none.
    assert_eq!(
        service_stat_from_scrapes(&query(Some("idle")), &services(), &pods).len(),
        1
    );
    assert!(service_stat_from_scrapes(&query(Some("nope")), &services(), &pods).is_empty());
}

#[test]
fn traffic_to_a_service_the_query_leaves_out_is_not_counted() {
    let pods = [client(
        "sc-1",
        sent("elsewhere", 0.0, 0.0, 0.0),
        sent("elsewhere", 50.0, 0.0, 50.0),
    )];
    let rows = service_stat_from_scrapes(&query(None), &services(), &pods);
    assert!(rows.iter().all(|r| r.stats.is_none()), "{rows:?}");
}
