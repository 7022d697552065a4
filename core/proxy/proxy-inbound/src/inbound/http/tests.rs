use http::HeaderMap;
use http::header::HeaderValue;

use strait_decisions::authz::ClientTls;

use std::collections::BTreeSet;

use super::{authority, canonical_path, consistent_authority, host, request_client, set_client_id};

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

const GATEWAY: &str =
    "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local";
const SLOW_COOKER: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";

fn named(values: &[&'static [u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(
            "l5d-client-id",
            HeaderValue::from_bytes(value).expect("a header value"),
        );
    }
    headers
}

#[test]
fn only_a_trusted_gateway_names_the_client_of_its_requests() {
    let trusted = BTreeSet::from([GATEWAY.to_string()]);
    let mtls = |id: &str| ClientTls::Mtls(id.to_string());
    let claim = named(&[SLOW_COOKER.as_bytes()]);
    // The gateway, proven by mTLS, names the client it verified.
    assert_eq!(
        request_client(&mtls(GATEWAY), &trusted, &claim),
        Ok(mtls(SLOW_COOKER))
    );
    // Naming no one, it is the client itself.
    assert_eq!(
        request_client(&mtls(GATEWAY), &trusted, &HeaderMap::new()),
        Ok(mtls(GATEWAY))
    );
    // Anyone else's claim proves nothing: the peer is the client.
    let evil = "slow-cooker-evil.mc-demo.serviceaccount.identity.linkerd.cluster.local";
    for peer in [
        mtls(evil),
        ClientTls::TlsAnonymous,
        ClientTls::Plaintext("no_tls_from_remote".into()),
    ] {
        assert_eq!(request_client(&peer, &trusted, &claim), Ok(peer.clone()));
    }
    // A gateway no one configured is just a peer.
    assert_eq!(
        request_client(&mtls(GATEWAY), &BTreeSet::new(), &claim),
        Ok(mtls(GATEWAY))
    );
}

#[test]
fn a_gateways_claim_that_is_ambiguous_or_malformed_is_refused() {
    let trusted = BTreeSet::from([GATEWAY.to_string()]);
    let gateway = ClientTls::Mtls(GATEWAY.to_string());
    for (values, problem) in [
        (
            &[SLOW_COOKER.as_bytes(), b"other.id".as_slice()][..],
            "more than one",
        ),
        (&[b"Slow Cooker".as_slice()][..], "not a mesh identity"),
        (&[b"".as_slice()][..], "not a mesh identity"),
        (&[b"a..b".as_slice()][..], "not a mesh identity"),
        (&[b"caf\xe9.local".as_slice()][..], "not text"),
    ] {
        let got = request_client(&gateway, &trusted, &named(values));
        assert!(
            got.as_ref().is_err_and(|e| e.contains(problem)),
            "{values:?}: {got:?}"
        );
    }
}
