//! The memory attack on the inbound side: a client may name any `Host` in
//! every request, so nothing keyed by the authority may grow without
//! bound, whether the request is refused or admitted.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use strait_proxy_inbound::WatcherConfig;
use strait_proxy_metrics::{MAX_AUTHORITY_LABEL, ProxyMetrics, Retention};
use strait_test_support::eventually_within;
use support::*;

/// How many made-up authorities each attack sends.
const REQUESTS: usize = 200;

/// A GET of `/` naming the made-up authority number `i`.
fn made_up(i: usize) -> Request<Full<Bytes>> {
    Request::builder()
        .uri("/")
        .header("host", format!("made-up-{i}.example:{HTTP_PORT}"))
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// The series of `family` in `text`.
fn series<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .collect()
}

/// How many series of any family name a made-up authority.
fn made_up_series(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains("made-up-"))
        .count()
}

async fn inbound(metrics: ProxyMetrics) -> (Mesh, App, Proxy) {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let app = http_app().await;
    let proxy = proxy_with_metrics(&mesh, "bb-1", forwarding_to(app.addr, PATIENCE), metrics);
    (mesh, app, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_are_not_labelled_by_the_authority_they_name() {
    let (_mesh, app, proxy) = inbound(ProxyMetrics::new()).await;
    let evil = proxy.listen(mtls(EVIL), HTTP_PORT).await;
    let mut client = h1(evil).await;
    for i in 0..REQUESTS {
        assert_eq!(
            send1(&mut client, made_up(i)).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let text = proxy.encode();
    assert_eq!(made_up_series(&text), 0, "{text}");
    let denied = series(&text, "inbound_http_authz_deny_total");
    assert_eq!(denied.len(), 1, "{text}");
    assert!(denied[0].ends_with(&format!(" {REQUESTS}")), "{text}");
    assert!(denied[0].contains("srv_name=\"bb\""), "{text}");
    assert_eq!(app.requests.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_of_admitted_authorities_go_once_idle() {
    let metrics = ProxyMetrics::with_retention(Retention {
        idle: Duration::ZERO,
        ..Retention::default()
    });
    let (_mesh, _app, proxy) = inbound(metrics).await;
    let good = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    // A connection that stays open keeps its series.
    let mut kept = h1(good).await;
    assert_eq!(send1(&mut kept, get("/")).await.0, StatusCode::OK);
    for _ in 0..4 {
        let mut client = h1(good).await;
        for i in 0..REQUESTS / 4 {
            assert_eq!(send1(&mut client, made_up(i)).await.0, StatusCode::OK);
        }
    }
    assert!(made_up_series(&proxy.encode()) > 0);

    // Once their connections are gone, nothing holds the made-up
    // authorities' series: they go, the open connection's stay.
    eventually_within(
        PATIENCE,
        "the made-up authorities' series evicted",
        async || {
            proxy.metrics.evict_idle();
            let text = proxy.encode();
            match made_up_series(&text) {
                0 => Ok(text),
                n => Err(n),
            }
        },
    )
    .await;
    let text = proxy.encode();
    assert!(
        series(&text, "request_total")
            .iter()
            .any(|l| l.contains(&format!("authority=\"{AUTHORITY}\""))),
        "{text}"
    );
    assert_eq!(send1(&mut kept, get("/")).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_series_of_made_up_authorities_are_capped() {
    const CAP: usize = 32;
    let metrics = ProxyMetrics::with_retention(Retention {
        max_series: CAP,
        ..Retention::default()
    });
    let (_mesh, _app, proxy) = inbound(metrics).await;
    let good = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = h1(good).await;
    for i in 0..REQUESTS {
        assert_eq!(send1(&mut client, made_up(i)).await.0, StatusCode::OK);
    }
    // Within the idle period, but past the cap: the longest idle go. The
    // connection itself holds the series of its last few authorities.
    let text = proxy.encode();
    let requests = series(&text, "request_total");
    assert!(
        requests.len() <= 2 * CAP,
        "{} series\n{text}",
        requests.len()
    );

    // A `Host` of many kilobytes labels its series with no more than a
    // real authority could.
    let huge = format!("{}.example", "x".repeat(16 * 1024));
    let request = Request::builder()
        .uri("/")
        .header("host", huge.as_str())
        .body(Full::new(Bytes::new()))
        .expect("request");
    assert_eq!(send1(&mut client, request).await.0, StatusCode::OK);
    let text = proxy.encode();
    let authorities: Vec<&str> = text
        .split("authority=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(authorities.iter().any(|a| a.starts_with("xxx")), "{text}");
    let longest = authorities
        .iter()
        .map(|a| a.len())
        .max()
        .unwrap_or_default();
    assert!(
        longest <= MAX_AUTHORITY_LABEL,
        "an authority label of {longest} bytes"
    );
}

/// A proxy whose watcher keeps at most `max_ports` watches, closing
/// unused ones after `idle`.
async fn watching(max_ports: usize, idle: Duration) -> (Mesh, App, Proxy) {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let app = http_app().await;
    let mut config = forwarding_to(app.addr, PATIENCE);
    config.detect_timeout = Duration::from_secs(2);
    let proxy = proxy_watching(
        &mesh,
        "bb-1",
        config,
        ProxyMetrics::new(),
        WatcherConfig {
            idle_timeout: idle,
            max_ports,
            ..WatcherConfig::default()
        },
    );
    (mesh, app, proxy)
}

/// One GET on a fresh HTTP/1 connection: its status, or `None` when the
/// connection was closed unanswered.
async fn try_get(addr: std::net::SocketAddr) -> Option<StatusCode> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(connection);
    let response = sender.send_request(get("/")).await.ok()?;
    Some(response.status())
}

/// The attack: a client connects once to each of many ports of a pod
/// (iptables sends every inbound port to the proxy). Each port used to
/// open a `WatchPort` stream on the policy service that was never closed;
/// now at most `max_ports` are kept and unused ones close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_many_ports_leaves_no_watch_behind() {
    const MAX: usize = 4;
    let (_mesh, _app, proxy) = watching(MAX, Duration::from_millis(100)).await;
    for port in 20_000..20_040 {
        let addr = proxy.listen(mtls(EVIL), port).await;
        assert_eq!(try_get(addr).await, Some(StatusCode::OK), "port {port}");
        assert!(
            proxy.watcher.watched_ports() <= MAX,
            "{} watches after port {port}",
            proxy.watcher.watched_ports()
        );
    }
    // Once idle, the watches close.
    eventually_within(PATIENCE, "the idle watches closed", async || {
        proxy.watcher.watched_ports() == 0
    })
    .await;
}

/// A watch in use is never closed to make room: with every watch held by
/// an open connection, a connection to another port is refused (closed
/// unanswered), the open ones keep working, and the port is served once
/// one of them closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_in_use_stay_and_a_new_port_waits_for_room() {
    let (_mesh, _app, proxy) = watching(2, Duration::from_secs(60)).await;
    let (a, b, c) = (
        proxy.listen(mtls(SLOW_COOKER), 21_001).await,
        proxy.listen(mtls(SLOW_COOKER), 21_002).await,
        proxy.listen(mtls(SLOW_COOKER), 21_003).await,
    );
    let mut held_a = h1(a).await;
    let mut held_b = h1(b).await;
    assert_eq!(send1(&mut held_a, get("/")).await.0, StatusCode::OK);
    assert_eq!(send1(&mut held_b, get("/")).await.0, StatusCode::OK);
    assert_eq!(try_get(c).await, None, "no room while both are in use");
    assert_eq!(send1(&mut held_a, get("/")).await.0, StatusCode::OK);
    assert_eq!(send1(&mut held_b, get("/")).await.0, StatusCode::OK);
    drop(held_a);
    eventually_within(
        PATIENCE,
        "port 21003 served once 21001 is free",
        async || try_get(c).await == Some(StatusCode::OK),
    )
    .await;
    assert_eq!(send1(&mut held_b, get("/")).await.0, StatusCode::OK);
}
