use std::time::Duration;

use prometheus_client::encoding::text::encode;
use strait_store::MemoryStore;

use super::*;
use crate::plugins::PluginsConfigMap;

fn leader_gauge(metrics: &MirrorMetrics) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    text.lines()
        .find(|line| line.starts_with("service_mirror_leader{"))
        .unwrap_or_default()
        .to_string()
}

async fn gauge_becomes(metrics: &MirrorMetrics, expected: &str) {
    for _ in 0..100 {
        if leader_gauge(metrics) == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{expected:?} never seen; last {:?}", leader_gauge(metrics));
}

#[tokio::test]
async fn the_leader_gauge_follows_the_term_and_ends_at_zero() {
    let metrics = MirrorMetrics::default();
    let (leading, watching) = watch::channel(false);
    let gauge = tokio::spawn(follow_leadership(
        watching,
        metrics.clone(),
        "target".into(),
    ));
    gauge_becomes(&metrics, "service_mirror_leader{link=\"target\"} 0").await;
    leading.send_replace(true);
    gauge_becomes(&metrics, "service_mirror_leader{link=\"target\"} 1").await;
    // The election ends while leading (a crash): the gauge says so.
    drop(leading);
    gauge.await.expect("the gauge ends with the election");
    assert_eq!(
        leader_gauge(&metrics),
        "service_mirror_leader{link=\"target\"} 0"
    );
}

#[tokio::test]
async fn an_unusable_lease_is_named_before_anything_serves() {
    let admin = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let admin_addr = admin.local_addr().expect("addr");
    drop(admin);
    let result = service_mirror(
        MemoryStore::new(),
        |_: &Secret| Ok(MemoryStore::new()),
        MirrorController {
            namespace: "linkerd".into(),
            link: "target".into(),
            holder_identity: String::new(),
            admin_addr,
            plugins: PluginsConfigMap::new("linkerd", "strait-plugins"),
        },
        std::future::pending(),
    )
    .await;
    let err = result.expect_err("no holder identity").to_string();
    assert!(
        err.contains("service-mirror-write-target") && err.contains("holder identity"),
        "{err}"
    );
    assert!(std::net::TcpStream::connect(admin_addr).is_err());
}
