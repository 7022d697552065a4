use http::HeaderMap;
use http::header::HeaderValue;

use strait_decisions::authz::ClientTls;

use super::{authority, canonical_path, consistent_authority, host, set_client_id};

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
fn only_canonical_paths_are_matched() {
    for good in [
        "/",
        "/public",
        "/public/",
        "/a/b.c/d",
        "/a..b",
        "/.well-known/x",
        "*",
        "/%41",
    ] {
        assert!(canonical_path(good), "{good}");
    }
    for bad in [
        "/public/../admin",
        "/public/./admin",
        "/public/..",
        "/..",
        "//admin",
        "/public//admin",
        "/public/%2e%2e/admin",
        "/public/%2E%2E/admin",
        "/public%2fadmin",
        "/public%5cadmin",
        "/public\\admin",
        "relative",
    ] {
        assert!(!canonical_path(bad), "{bad}");
    }
}

#[test]
fn the_client_id_header_is_the_verified_identity_only() {
    let mut headers = HeaderMap::new();
    headers.append("l5d-client-id", HeaderValue::from_static("someone-else"));
    headers.append("l5d-client-id", HeaderValue::from_static("and-another"));
    set_client_id(
        &mut headers,
        &ClientTls::Mtls("bb.mc-demo.serviceaccount.identity.linkerd.cluster.local".into()),
    );
    let all: Vec<_> = headers.get_all("l5d-client-id").iter().collect();
    assert_eq!(
        all,
        ["bb.mc-demo.serviceaccount.identity.linkerd.cluster.local"]
    );
    set_client_id(&mut headers, &ClientTls::TlsAnonymous);
    assert!(headers.get("l5d-client-id").is_none());
}

#[test]
fn a_host_that_differs_from_the_authority_is_inconsistent() {
    let with_host = |host: &'static str| {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static(host));
        headers
    };
    let absolute: http::Uri = "http://bb.mc-demo.svc.cluster.local:8080/x"
        .parse()
        .expect("uri");
    let origin: http::Uri = "/x".parse().expect("uri");
    assert!(consistent_authority(
        &absolute,
        &with_host("bb.mc-demo.svc.cluster.local:8080")
    ));
    assert!(consistent_authority(
        &absolute,
        &with_host("BB.mc-demo.svc.cluster.local:8080")
    ));
    assert!(consistent_authority(&absolute, &HeaderMap::new()));
    assert!(consistent_authority(&origin, &with_host("anything:80")));
    let web: http::Uri = "http://web:80/".parse().expect("uri");
    assert!(consistent_authority(&web, &with_host("web")));
    let v6: http::Uri = "http://[::1]:8080/".parse().expect("uri");
    assert!(consistent_authority(&v6, &with_host("[::1]:8080")));
    assert!(!consistent_authority(&v6, &with_host("[::2]:8080")));
    assert!(!consistent_authority(
        &absolute,
        &with_host("admin.internal")
    ));
    assert!(!consistent_authority(
        &absolute,
        &with_host("bb.mc-demo.svc.cluster.local:9090")
    ));
    let mut two = with_host("a");
    two.append("host", HeaderValue::from_static("b"));
    assert!(!consistent_authority(&origin, &two));
}
