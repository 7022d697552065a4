use http::header::{CONNECTION, HOST, TE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, Request, Version};

use super::*;

fn request(version: Version, uri: &str) -> Request<()> {
    let mut request = Request::builder().uri(uri).body(()).unwrap();
    *request.version_mut() = version;
    request
}

#[test]
fn an_upgraded_request_comes_back_as_it_was_sent() {
    for (version, absolute) in [
        (Version::HTTP_11, false),
        (Version::HTTP_11, true),
        (Version::HTTP_10, false),
        (Version::HTTP_10, true),
    ] {
        let mut sent = request(version, "http://bb.mc-demo:8080/path?q=1");
        sent.headers_mut()
            .insert(HOST, HeaderValue::from_static("bb.mc-demo:8080"));
        upgrade(&mut sent, absolute);
        assert_eq!(sent.version(), Version::HTTP_2);
        assert!(sent.headers().contains_key(L5D_ORIG_PROTO));

        let orig = downgrade(&mut sent).unwrap();
        assert_eq!(
            orig,
            Some(OrigProto {
                version,
                absolute_form: absolute
            })
        );
        assert_eq!(sent.version(), version);
        assert!(!sent.headers().contains_key(L5D_ORIG_PROTO));
        assert_eq!(sent.headers()[HOST], "bb.mc-demo:8080");
        assert_eq!(sent.uri().path_and_query().unwrap().as_str(), "/path?q=1");
    }
}

#[test]
fn downgrading_adds_host_from_the_authority_when_missing() {
    let mut received = request(Version::HTTP_2, "http://web.ns.svc.cluster.local:80/");
    received
        .headers_mut()
        .insert(L5D_ORIG_PROTO, HeaderValue::from_static("HTTP/1.1"));
    downgrade(&mut received).unwrap();
    assert_eq!(received.headers()[HOST], "web.ns.svc.cluster.local:80");
}

#[test]
fn requests_that_were_not_upgraded_are_left_alone() {
    let mut received = request(Version::HTTP_2, "http://grpc.ns:9090/svc/Method");
    assert_eq!(downgrade(&mut received).unwrap(), None);
    assert_eq!(received.version(), Version::HTTP_2);
    assert!(!received.headers().contains_key(HOST));
}

#[test]
fn an_unknown_original_version_is_refused_by_name() {
    for value in ["HTTP/2", "h2c", "HTTP/1.1; relative-form", ""] {
        let mut received = request(Version::HTTP_2, "http://a:1/");
        received
            .headers_mut()
            .insert(L5D_ORIG_PROTO, HeaderValue::from_str(value).unwrap());
        let error = downgrade(&mut received).unwrap_err();
        assert!(error.to_string().contains("l5d-orig-proto"), "{error}");
        assert!(error.to_string().contains(value), "{error}");
    }
}

#[test]
fn only_http1_requests_other_than_connect_are_upgraded() {
    assert!(can_upgrade(Version::HTTP_11, &Method::GET));
    assert!(can_upgrade(Version::HTTP_10, &Method::POST));
    assert!(!can_upgrade(Version::HTTP_11, &Method::CONNECT));
    assert!(!can_upgrade(Version::HTTP_2, &Method::GET));
    assert!(!can_upgrade(Version::HTTP_09, &Method::GET));
}

#[test]
fn hop_by_hop_headers_and_those_connection_names_are_removed() {
    let mut headers = HeaderMap::new();
    headers.insert(CONNECTION, HeaderValue::from_static("close, x-hop"));
    headers.insert("x-hop", HeaderValue::from_static("1"));
    headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
    headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    headers.insert(TE, HeaderValue::from_static("gzip, trailers"));
    headers.insert("x-end-to-end", HeaderValue::from_static("kept"));
    strip_hop_by_hop(&mut headers);
    assert_eq!(headers.len(), 2, "{headers:?}");
    assert_eq!(headers[TE], "trailers");
    assert_eq!(headers["x-end-to-end"], "kept");

    let mut headers = HeaderMap::new();
    headers.insert(TE, HeaderValue::from_static("gzip"));
    strip_hop_by_hop(&mut headers);
    assert!(headers.is_empty());
}

/// Each hop-by-hop name is found alone too, by any spelling (the check
/// that skips messages without one must not miss one).
#[test]
fn each_hop_by_hop_header_alone_is_removed() {
    for name in [
        "connection",
        "Keep-Alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "te",
    ] {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_static("x"),
        );
        headers.insert("x-end-to-end", HeaderValue::from_static("kept"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1, "{name}: {headers:?}");
        assert_eq!(headers["x-end-to-end"], "kept");
    }
}
