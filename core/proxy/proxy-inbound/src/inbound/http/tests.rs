use http::HeaderMap;
use http::header::HeaderValue;

use super::{authority, host};

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
