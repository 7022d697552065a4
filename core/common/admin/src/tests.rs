use prometheus_client::metrics::counter::Counter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

async fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn serves_metrics_readiness_and_liveness() {
    let mut registry = Registry::default();
    let counter = Counter::<u64>::default();
    counter.inc();
    registry.register("strait_test_events", "Events seen by the test", counter);
    let (addr, _task) = serve(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(registry),
        always_ready(),
    )
    .await
    .unwrap();
    let metrics = get(addr, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    assert!(metrics.contains("strait_test_events_total 1"), "{metrics}");
    assert!(get(addr, "/ready").await.starts_with("HTTP/1.1 200 OK"));
    assert!(get(addr, "/live").await.starts_with("HTTP/1.1 200 OK"));
    assert!(
        get(addr, "/nope")
            .await
            .starts_with("HTTP/1.1 404 Not Found")
    );
}

#[tokio::test]
async fn a_taken_port_is_reported_at_start() {
    let (addr, _task) = serve(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(Registry::default()),
        always_ready(),
    )
    .await
    .unwrap();
    let err = serve(addr, Arc::new(Registry::default()), always_ready())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[tokio::test]
async fn ready_follows_the_readiness_signal() {
    let (set, readiness) = watch::channel(false);
    let (addr, _task) = serve(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(Registry::default()),
        readiness,
    )
    .await
    .unwrap();
    let response = get(addr, "/ready").await;
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(get(addr, "/live").await.starts_with("HTTP/1.1 200 OK"));
    set.send_replace(true);
    assert!(get(addr, "/ready").await.starts_with("HTTP/1.1 200 OK"));
}

/// What faces a load balancer answers probes and nothing else: the
/// metrics (who talks to whom, how much) stay on the admin port.
#[tokio::test]
async fn the_probe_server_answers_probes_and_hides_the_metrics() {
    let (set_ready, readiness) = watch::channel(false);
    let (addr, _task) = serve_probes("127.0.0.1:0".parse().unwrap(), readiness)
        .await
        .unwrap();
    assert!(get(addr, "/ready").await.starts_with("HTTP/1.1 503"));
    set_ready.send_replace(true);
    assert!(get(addr, "/ready").await.starts_with("HTTP/1.1 200"));
    assert!(get(addr, "/live").await.starts_with("HTTP/1.1 200"));
    let metrics = get(addr, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 404"), "{metrics}");
}
