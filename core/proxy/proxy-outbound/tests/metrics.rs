//! Opaque TCP through the outbound side, and the exact metrics of HTTP and
//! TCP traffic.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use strait_proxy_metrics::ProxyMetrics;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ECHO_CLUSTER_IP: &str = "10.96.0.20";

/// The metric lines (no comments) of `metrics` in the text format.
fn lines(metrics: &ProxyMetrics) -> Vec<String> {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    encode(&mut text, &registry).expect("encode");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn assert_has(lines: &[String], expected: &str) {
    assert!(
        lines.iter().any(|l| l == expected),
        "missing {expected}\nin:\n{}",
        lines.join("\n")
    );
}

async fn echo_through(proxy: SocketAddr, message: &[u8]) {
    let mut stream = TcpStream::connect(proxy).await.expect("connect");
    stream.write_all(message).await.expect("write");
    let mut echoed = vec![0u8; message.len()];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut echoed))
        .await
        .expect("echo in time")
        .expect("read");
    assert_eq!(echoed, message);
    stream.shutdown().await.expect("shutdown");
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest))
        .await
        .expect("close in time")
        .expect("read to end");
    assert!(rest.is_empty());
}

async fn wait_for(metrics: &ProxyMetrics, expected: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !lines(metrics).iter().any(|l| l == expected) {
        if Instant::now() > deadline {
            assert_has(&lines(metrics), expected);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tcp_to_a_cluster_ip_echoes_through_and_is_counted() {
    let cp = control_plane().await;
    let echo = echo_server().await;
    apply(&cp.store, service("echo", ECHO_CLUSTER_IP, 7000, "echo"));
    apply(&cp.store, pod("echo-1", "echo", "echo", echo.port(), false));
    apply(
        &cp.store,
        slice("echo-slice", "echo", 7000, &["echo-1"], true),
    );
    settle(&cp.index, "echo", 7000, 1).await;
    let orig_dst: SocketAddr = format!("{ECHO_CLUSTER_IP}:7000").parse().unwrap();
    let proxy = proxy(&cp, Some(orig_dst)).await;

    echo_through(proxy.addr, b"hello, opaque world\n").await;
    echo_through(proxy.addr, b"\x00\x01binary\xff").await;

    let labels = format!(
        "direction=\"outbound\",authority=\"{orig_dst}\",target_addr=\"{echo}\",\
         tls=\"no_identity\",no_tls_reason=\"not_provided_by_service_discovery\",\
         dst_namespace=\"mc-demo\",dst_pod=\"echo-1\",dst_service=\"echo\",dst_serviceaccount=\"echo\""
    );
    wait_for(&proxy.metrics, &format!("tcp_close_total{{{labels}}} 2")).await;
    let lines = lines(&proxy.metrics);
    assert_has(&lines, &format!("tcp_open_total{{{labels}}} 2"));
    assert_has(&lines, &format!("tcp_open_connections{{{labels}}} 0"));
    assert_has(&lines, &format!("tcp_write_bytes_total{{{labels}}} 29"));
    assert_has(&lines, &format!("tcp_read_bytes_total{{{labels}}} 29"));
    assert_eq!(
        proxy.connect.seen.lock().get(&echo),
        Some(&None),
        "an unmeshed endpoint is connected to without an identity"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tcp_to_an_address_that_is_no_service_goes_to_it_directly() {
    let cp = control_plane().await;
    let echo = echo_server().await;
    let proxy = proxy(&cp, Some(echo)).await;
    echo_through(proxy.addr, b"straight to the pod\n").await;
    let labels = format!(
        "direction=\"outbound\",authority=\"{echo}\",target_addr=\"{echo}\",\
         tls=\"no_identity\",no_tls_reason=\"not_provided_by_service_discovery\""
    );
    wait_for(&proxy.metrics, &format!("tcp_close_total{{{labels}}} 1")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tcp_without_an_original_destination_is_closed() {
    let cp = control_plane().await;
    let proxy = proxy(&cp, None).await;
    let mut stream = TcpStream::connect(proxy.addr).await.expect("connect");
    stream.write_all(b"hello\n").await.expect("write");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest))
        .await
        .expect("closed in time");
    assert!(read.is_err() || rest.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_metrics_are_exact_with_the_endpoint_labels() {
    let cp = control_plane().await;
    let b1 = Backend::start("bb-1").await;
    bb(&cp, &[&b1]).await;
    let proxy = proxy(&cp, None).await;

    let mut sender = http1(proxy.addr).await;
    for _ in 0..7 {
        let response = send1(&mut sender, get(BB)).await.expect("response");
        assert_eq!(read(response).await.0, 200);
    }
    let labels = format!(
        "direction=\"outbound\",authority=\"{BB}\",target_addr=\"{}\",\
         tls=\"true\",server_id=\"{BB_IDENTITY}\",\
         dst_namespace=\"mc-demo\",dst_pod=\"bb-1\",dst_service=\"bb\",dst_serviceaccount=\"bb\"",
        b1.addr
    );
    let lines = lines(&proxy.metrics);
    assert_has(&lines, &format!("request_total{{{labels}}} 7"));
    assert_has(
        &lines,
        &format!("response_total{{{labels},status_code=\"200\",classification=\"success\"}} 7"),
    );
    assert_has(
        &lines,
        &format!("response_latency_ms_count{{{labels},status_code=\"200\"}} 7"),
    );
    assert_has(
        &lines,
        &format!("response_latency_ms_bucket{{le=\"50000.0\",{labels},status_code=\"200\"}} 7"),
    );
    let series = lines
        .iter()
        .filter(|l| l.starts_with("request_total"))
        .count();
    assert_eq!(series, 1, "{lines:#?}");
    assert!(!lines.iter().any(|l| l.starts_with("tcp_")), "{lines:#?}");
}

/// Requests the proxy answers itself never reach an endpoint's
/// `response_total`: they are counted by kind, as Linkerd's proxy counts
/// them, so a client's errors are all seen on its own proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_the_proxy_answers_itself_are_counted_by_kind() {
    let cp = control_plane().await;
    let _empty = without_ready_endpoints(&cp, "10.96.0.31").await;
    let proxy = proxy(&cp, None).await;

    let (status, _, body) = get_once(proxy.addr, "bad host").await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = get_once(proxy.addr, "nope.mc-demo.svc.cluster.local:8080").await;
    assert_eq!(status, 503, "{body}");
    for _ in 0..2 {
        let (status, _, body) = get_once(proxy.addr, "empty.mc-demo.svc.cluster.local:8080").await;
        assert_eq!(status, 503, "{body}");
    }

    let lines = lines(&proxy.metrics);
    assert_has(
        &lines,
        "outbound_http_errors_total{error=\"bad request\"} 1",
    );
    assert_has(&lines, "outbound_http_errors_total{error=\"unexpected\"} 1");
    assert_has(&lines, "outbound_http_errors_total{error=\"failfast\"} 2");
    assert!(
        !lines.iter().any(|l| l.starts_with("response_total")),
        "no endpoint answered, so no endpoint series: {lines:?}"
    );
}
