//! The metric series the inbound side records, compared line by line in
//! Prometheus' text format, as `viz stat` and `viz authz` read them.

mod support;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use support::*;

fn common(identity: &str) -> String {
    format!(
        "direction=\"inbound\",authority=\"{AUTHORITY}\",{}",
        authz(identity)
    )
}

/// The labels of authorization series: those of requests without the
/// authority, which the client chooses.
fn authz(identity: &str) -> String {
    format!(
        "target_addr=\"{POD_IP}:{HTTP_PORT}\",\
         tls=\"true\",client_id=\"{identity}\",\
         srv_group=\"policy.linkerd.io\",srv_kind=\"server\",srv_name=\"bb\",\
         route_group=\"\",route_kind=\"default\",route_name=\"default\""
    )
}

fn assert_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "missing line:\n{line}\nin:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_are_exact_after_admitted_and_refused_requests() {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let app = http_app().await;
    let proxy = proxy(&mesh, "bb-1", app.addr, PATIENCE);

    let good = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = h1(good).await;
    for _ in 0..5 {
        assert_eq!(send1(&mut client, get("/")).await.0, StatusCode::OK);
    }
    let evil = proxy.listen(mtls(EVIL), HTTP_PORT).await;
    let mut client = h1(evil).await;
    for _ in 0..3 {
        assert_eq!(send1(&mut client, get("/")).await.0, StatusCode::FORBIDDEN);
    }
    // Two refused gRPC calls over HTTP/2.
    let mut grpc = h2(evil).await;
    for _ in 0..2 {
        let request = Request::builder()
            .method("POST")
            .uri(format!("http://{AUTHORITY}/bb.Service/Get"))
            .header("content-type", "application/grpc")
            .body(Full::new(Bytes::new()))
            .expect("request");
        grpc.ready().await.expect("ready");
        let response = grpc.send_request(request).await.expect("response");
        assert_eq!(response.headers()["grpc-status"], "7");
    }

    let text = proxy.encode();
    // Each decision names the plugin version that made it.
    let version = proxy.plugin.active().label.clone();
    let good = common(SLOW_COOKER);
    assert_line(&text, &format!("request_total{{{good}}} 5"));
    assert_line(
        &text,
        &format!("response_total{{{good},status_code=\"200\",classification=\"success\"}} 5"),
    );
    assert_line(
        &text,
        &format!(
            "inbound_http_authz_allow_total{{direction=\"inbound\",{},authz_group=\"policy.linkerd.io\",\
             authz_kind=\"authorizationpolicy\",authz_name=\"bb-authz\",plugin_version=\"{version}\"}} 5",
            authz(SLOW_COOKER)
        ),
    );
    // Refused requests are counted as denials only, as Linkerd's proxy
    // counts them: no request or response of the route.
    assert!(
        !text.lines().any(|l| (l.starts_with("request_total{")
            || l.starts_with("response_total{"))
            && l.contains(EVIL)),
        "{text}"
    );
    assert_line(
        &text,
        &format!(
            "inbound_http_authz_deny_total{{direction=\"inbound\",{},plugin_version=\"{version}\"}} 5",
            authz(EVIL)
        ),
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("inbound_http_authz_allow_total{") && l.contains(EVIL)),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("inbound_http_authz_deny_total{") && l.contains(SLOW_COOKER)),
        "{text}"
    );
    assert_line(
        &text,
        &format!("response_latency_ms_count{{{good},status_code=\"200\"}} 5"),
    );
    // Connection-level series of the HTTP connections (three so far, open).
    let conn = format!(
        "direction=\"inbound\",target_addr=\"{POD_IP}:{HTTP_PORT}\",tls=\"true\",client_id=\"{SLOW_COOKER}\",\
         srv_group=\"policy.linkerd.io\",srv_kind=\"server\",srv_name=\"bb\""
    );
    assert_line(&text, &format!("tcp_open_total{{{conn}}} 1"));
    assert_line(&text, &format!("tcp_open_connections{{{conn}}} 1"));
}
