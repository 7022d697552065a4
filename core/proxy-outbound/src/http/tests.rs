use std::net::SocketAddr;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, StatusCode};

use super::{error_response, request_authority, strip_hop_by_hop};

fn dst() -> Option<SocketAddr> {
    Some("10.96.0.10:8080".parse().unwrap())
}

fn with_host(host: &str) -> Request<()> {
    Request::builder()
        .uri("/path")
        .header(header::HOST, host)
        .body(())
        .unwrap()
}

#[test]
fn the_authority_comes_from_the_uri_the_host_or_the_original_destination() {
    let h2 = Request::builder()
        .uri("http://BB.mc-demo.svc.cluster.local:8080/x")
        .body(())
        .unwrap();
    assert_eq!(
        request_authority(&h2, None).unwrap(),
        "bb.mc-demo.svc.cluster.local:8080"
    );
    assert_eq!(
        request_authority(&with_host("bb.mc-demo:80"), dst()).unwrap(),
        "bb.mc-demo:80"
    );
    assert_eq!(
        request_authority(&with_host("bb.mc-demo"), dst()).unwrap(),
        "bb.mc-demo:8080"
    );
    assert_eq!(
        request_authority(&with_host("bb.mc-demo"), None).unwrap(),
        "bb.mc-demo:80"
    );
    let bare = Request::builder().uri("/").body(()).unwrap();
    assert_eq!(request_authority(&bare, dst()).unwrap(), "10.96.0.10:8080");
    assert!(request_authority(&bare, None).is_err());
    assert!(request_authority(&with_host("bad host"), dst()).is_err());
    assert!(request_authority(&with_host("user@bb:80"), dst()).is_err());
}

#[test]
fn hop_by_hop_headers_are_not_forwarded() {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONNECTION,
        HeaderValue::from_static("keep-alive, x-private"),
    );
    headers.insert("x-private", HeaderValue::from_static("1"));
    headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    headers.insert("x-kept", HeaderValue::from_static("1"));
    strip_hop_by_hop(&mut headers);
    let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
    names.sort();
    assert_eq!(names, ["te", "x-kept"]);
}

#[test]
fn proxy_errors_say_what_went_wrong() {
    let response = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "bb:80 has no ready endpoints".into(),
    );
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.headers()["l5d-proxy-error"],
        "bb:80 has no ready endpoints"
    );
}
