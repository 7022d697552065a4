//! HTTP enforcement end to end: a real policy server with the pod-to-pod
//! guide's policy, the built-in authz plugin, and a test application.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use strait_decisions::authz::ClientTls;
use strait_test_support::scrape;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn guide() -> (Mesh, App, Proxy) {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let app = http_app().await;
    let proxy = proxy(&mesh, "bb-1", app.addr, PATIENCE);
    (mesh, app, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_cooker_gets_the_apps_answer() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = h1(addr).await;
    let (status, body) = send1(&mut client, get("/hello")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "hello from bb /hello");
    // The same connection carries the next request too.
    let (status, body) = send1(&mut client, get("/again")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "hello from bb /again")
    );
    assert_eq!(app.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_cooker_over_http2_is_forwarded_over_http2() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = h2(addr).await;
    for i in 0..3 {
        let request = Request::builder()
            .uri(format!("http://{AUTHORITY}/h2/{i}"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        client.ready().await.expect("ready");
        let response = client.send_request(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), http::Version::HTTP_2);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(body, format!("hello from bb /h2/{i}"));
    }
    assert_eq!(app.requests.load(Ordering::SeqCst), 3);
    // One application connection for the whole client connection.
    assert_eq!(app.connections.load(Ordering::SeqCst), 1);
}

/// An HTTP/1 request another proxy upgraded: an HTTP/2 stream naming its
/// original version in `l5d-orig-proto`.
fn upgraded(path: &str, orig_proto: &'static str) -> Request<Full<Bytes>> {
    Request::builder()
        .uri(format!("http://{AUTHORITY}{path}"))
        .header("l5d-orig-proto", orig_proto)
        .body(Full::new(Bytes::new()))
        .expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgraded_requests_reach_the_app_as_the_http1_requests_they_were() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let client = h2(addr).await;
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let mut client = client.clone();
            tokio::spawn(async move {
                client.ready().await.expect("ready");
                let response = client
                    .send_request(upgraded(&format!("/up/{i}"), "HTTP/1.1"))
                    .await
                    .expect("response");
                assert_eq!(response.status(), StatusCode::OK);
                assert_eq!(response.version(), http::Version::HTTP_2);
                let headers = response.headers().clone();
                assert_eq!(headers["x-version"], "HTTP/1.1");
                assert_eq!(headers["x-host"], AUTHORITY);
                assert_eq!(headers["x-target"], format!("/up/{i}").as_str());
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes();
                assert_eq!(body, format!("hello from bb /up/{i}"));
            })
        })
        .collect();
    for call in calls {
        call.await.expect("call");
    }
    assert_eq!(app.requests.load(Ordering::SeqCst), 8);

    // The absolute form is kept when the client used it.
    let mut client = client.clone();
    client.ready().await.expect("ready");
    let response = client
        .send_request(upgraded("/abs", "HTTP/1.1; absolute-form"))
        .await
        .expect("response");
    assert_eq!(response.headers()["x-version"], "HTTP/1.1");
    assert_eq!(
        response.headers()["x-target"],
        format!("http://{AUTHORITY}/abs").as_str()
    );

    // HTTP/1.0 stays HTTP/1.0.
    client.ready().await.expect("ready");
    let response = client
        .send_request(upgraded("/old", "HTTP/1.0"))
        .await
        .expect("response");
    assert_eq!(response.headers()["x-version"], "HTTP/1.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_original_protocol_is_a_bad_request_that_never_reaches_the_app() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = h2(addr).await;
    client.ready().await.expect("ready");
    let response = client
        .send_request(upgraded("/bad", "HTTP/3"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_identity_is_refused_and_its_connection_stays_usable() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(EVIL), HTTP_PORT).await;
    let mut client = h1(addr).await;
    for _ in 0..3 {
        let (status, body) = send1(&mut client, get("/steal")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body, "unauthorized request on route\n");
    }
    assert!(!client.is_closed());
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_is_refused_where_an_identity_is_required() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy
        .listen(ClientTls::Plaintext("no_tls_from_remote".into()), HTTP_PORT)
        .await;
    let mut client = h1(addr).await;
    let (status, _) = send1(&mut client, get("/")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_grpc_call_gets_permission_denied() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(EVIL), HTTP_PORT).await;
    let mut client = h2(addr).await;
    let request = Request::builder()
        .method("POST")
        .uri(format!("http://{AUTHORITY}/bb.Service/Get"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from_static(b"\0\0\0\0\0")))
        .expect("request");
    client.ready().await.expect("ready");
    let response = client.send_request(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "7");
    assert!(response.headers().contains_key("grpc-message"));
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_policy_the_connection_is_refused_after_the_timeout() {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    let app = http_app().await;
    let timeout = Duration::from_millis(500);
    let proxy = proxy(&mesh, "no-such-pod", app.addr, timeout);
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let started = Instant::now();
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: bb\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    // Closed without an answer (a reset is also a refusal).
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the connection is closed");
    if read.is_ok() {
        assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    }
    assert!(started.elapsed() >= timeout - Duration::from_millis(50));
    assert_eq!(app.connections.load(Ordering::SeqCst), 0);
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_application_is_a_bad_gateway() {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let proxy = proxy(&mesh, "bb-1", closed, PATIENCE);
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = h1(addr).await;
    let (status, _) = send1(&mut client, get("/")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
}

/// The identity-spoofing attack on applications: apps written for Linkerd
/// trust `l5d-client-id`, which the inbound proxy sets to the client's
/// verified identity. A client that sends its own must not reach the app
/// with it: slow-cooker-evil, admitted on an open port, claims
/// slow-cooker's identity; a plaintext client claims it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_sees_the_verified_client_identity_and_never_a_claimed_one() {
    let (_mesh, _app, proxy) = guide().await;
    // A port no Server selects: the default policy admits every client.
    let open_port = 9999;
    let request = || {
        Request::builder()
            .uri("/whoami")
            .header("host", AUTHORITY)
            .header("l5d-client-id", SLOW_COOKER)
            .header(
                "l5d-client-id",
                "admin.kube-system.serviceaccount.identity.linkerd.cluster.local",
            )
            .body(Full::new(Bytes::new()))
            .expect("request")
    };
    for (tls, seen) in [
        (mtls(EVIL), EVIL),
        (ClientTls::Plaintext("no_tls_from_remote".into()), ""),
        (mtls(SLOW_COOKER), SLOW_COOKER),
    ] {
        let addr = proxy.listen(tls.clone(), open_port).await;
        let mut client = h1(addr).await;
        client.ready().await.expect("ready");
        let response = client.send_request(request()).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{tls:?}");
        let got = response
            .headers()
            .get("x-l5d-client-id")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        assert_eq!(got.as_deref(), Some(seen), "{tls:?}");
    }
}

/// The path-confusion attack on route rules: a prefix rule admits
/// `/public`, and `/public/../admin` (or `%2e%2e`, or `//admin`) would
/// match it while the application serves `/admin`. Such paths never reach
/// route matching or the application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_canonical_paths_are_refused_before_routes_match() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = h1(addr).await;
    for path in [
        "/public/../admin",
        "/public/%2e%2e/admin",
        "//admin",
        "/public/./admin",
    ] {
        let (status, body) = send1(&mut client, get(path)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body.contains("non-canonical"), "{path}: {body}");
    }
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
    let (status, _) = send1(&mut client, get("/admin")).await;
    assert_eq!(status, StatusCode::OK);
}

/// The Host-confusion attack: an absolute-form target names one host, the
/// Host header another; routes would match one while the application
/// serves the other. Such requests are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_header_that_contradicts_the_target_is_refused() {
    let (_mesh, app, proxy) = guide().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET http://{AUTHORITY}/x HTTP/1.1\r\nHost: admin.internal\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(app.requests.load(Ordering::SeqCst), 0);
}

/// The multicluster gateway's identity, as a workload's proxy trusts it.
const GATEWAY: &str =
    "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local";

/// Identity through a gateway: the gateway terminates its clients' mTLS
/// and forwards every client's requests on its own connections, naming
/// each request's verified client in `l5d-client-id`. bb's proxy, which
/// trusts that gateway, authorizes each request as its client: over one
/// HTTP/2 connection from the gateway, slow-cooker's requests are
/// admitted and slow-cooker-evil's refused, the application sees who
/// called, and the metrics count each client apart.
///
/// The attack alongside: slow-cooker-evil, connecting directly and
/// claiming slow-cooker's identity in the same header, is still itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_gateways_requests_are_authorized_as_the_clients_it_names() {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let app = http_app().await;
    let mut config = forwarding_to(app.addr, PATIENCE);
    config.trusted_gateways = Arc::new(BTreeSet::from([GATEWAY.to_string()]));
    let proxy = proxy_with(&mesh, "bb-1", config);

    let as_client = |client: &str| {
        Request::builder()
            .uri(format!("http://{AUTHORITY}/whoami"))
            .header("l5d-client-id", client)
            .body(Full::new(Bytes::new()))
            .expect("request")
    };
    let gateway = proxy.listen(mtls(GATEWAY), HTTP_PORT).await;
    let mut shared = h2(gateway).await;
    for _ in 0..3 {
        for (client, status) in [(SLOW_COOKER, StatusCode::OK), (EVIL, StatusCode::FORBIDDEN)] {
            shared.ready().await.expect("ready");
            let response = shared
                .send_request(as_client(client))
                .await
                .expect("response");
            assert_eq!(response.status(), status, "{client}");
            if status == StatusCode::OK {
                let seen = response
                    .headers()
                    .get("x-l5d-client-id")
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                assert_eq!(seen.as_deref(), Some(SLOW_COOKER));
            }
        }
    }
    assert_eq!(app.requests.load(Ordering::SeqCst), 3);

    // A gateway with no client to name is itself, which the guide's policy
    // does not admit; one naming two clients is refused as malformed.
    let mut direct = h1(gateway).await;
    assert_eq!(send1(&mut direct, get("/")).await.0, StatusCode::FORBIDDEN);
    let mut two = as_client(SLOW_COOKER);
    two.headers_mut()
        .append("l5d-client-id", http::HeaderValue::from_static(EVIL));
    let (status, body) = send1(&mut direct, two).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The spoof: slow-cooker-evil is no gateway, so its claim is nothing.
    let evil = proxy.listen(mtls(EVIL), HTTP_PORT).await;
    let mut evil = h1(evil).await;
    let (status, _) = send1(&mut evil, as_client(SLOW_COOKER)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.requests.load(Ordering::SeqCst), 3);

    let text = proxy.encode();
    let count = |family: &str, client: &str| {
        scrape::sum(&text, family, &[&format!("client_id=\"{client}\"")])
    };
    assert_eq!(
        count("inbound_http_authz_allow_total", SLOW_COOKER),
        3.0,
        "{text}"
    );
    assert_eq!(count("inbound_http_authz_deny_total", EVIL), 4.0, "{text}");
    assert_eq!(
        count("inbound_http_authz_deny_total", GATEWAY),
        1.0,
        "{text}"
    );
    assert_eq!(count("inbound_http_authz_allow_total", EVIL), 0.0, "{text}");
}
