use http::HeaderMap;
use http::header::HeaderValue;

use super::{authority, host, strip_hop_by_hop};

#[test]
fn host_drops_the_port_but_keeps_ipv6_brackets() {
    assert_eq!(host("bb.mc-demo.svc:8080"), "bb.mc-demo.svc");
    assert_eq!(host("bb"), "bb");
    assert_eq!(host("[::1]:8080"), "[::1]");
    assert_eq!(host(""), "");
}

#[test]
fn authority_prefers_the_uri_then_host() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("bb:8080"));
    let origin: http::Uri = "/path".parse().expect("uri");
    assert_eq!(authority(&origin, &headers), "bb:8080");
    let absolute: http::Uri = "http://other:80/path".parse().expect("uri");
    assert_eq!(authority(&absolute, &headers), "other:80");
    assert_eq!(authority(&origin, &HeaderMap::new()), "");
}

#[test]
fn hop_by_hop_headers_are_not_passed_on() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "connection",
        HeaderValue::from_static("keep-alive, x-private"),
    );
    headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
    headers.insert("x-private", HeaderValue::from_static("1"));
    headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
    headers.insert("te", HeaderValue::from_static("gzip, trailers"));
    headers.insert("x-kept", HeaderValue::from_static("yes"));
    strip_hop_by_hop(&mut headers);
    let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["te", "x-kept"]);
    assert_eq!(headers["te"], "trailers");
}
