use std::net::SocketAddr;

use http::header;
use http::{Request, StatusCode};

use super::{AuthorityError, error_response, request_authority};

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
    assert!(matches!(
        request_authority(&bare, None),
        Err(AuthorityError::Missing)
    ));
    assert!(matches!(
        request_authority(&with_host("bad host"), dst()),
        Err(AuthorityError::InvalidHost { host, .. }) if host == "bad host"
    ));
    assert_eq!(
        request_authority(&with_host("user@bb:80"), dst())
            .err()
            .map(|e| e.to_string()),
        Some(r#"invalid authority "user@bb:80""#.to_string())
    );
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

/// The shortcut for plain `host:port` names gives exactly what the URI
/// parser's path gives, and leaves everything else to it.
#[test]
fn plain_authorities_take_the_shortcut_to_the_same_answer() {
    let default = || 8080;
    for (text, plain) in [
        ("bb.mc-demo.svc.cluster.local:8080", true),
        ("bb.mc-demo", true),
        ("10.96.0.10:80", true),
        ("bb:0", true),
        ("bb:65535", true),
        ("bb:65536", false),
        ("bb:080", false),
        ("bb:", false),
        ("bb:+80", false),
        ("BB.mc-demo:80", false),
        ("user@bb:80", false),
        ("[::1]:80", false),
        (":80", false),
        ("", false),
        ("bb_x:80", false),
        ("bb:80:90", false),
    ] {
        let shortcut = super::plain_authority(text.as_bytes(), default);
        assert_eq!(shortcut.is_some(), plain, "{text:?}: {shortcut:?}");
        if let Some(shortcut) = shortcut {
            let authority: http::uri::Authority = text.parse().unwrap();
            assert_eq!(
                Some(shortcut),
                super::normalized(&authority, default()).ok(),
                "{text:?}"
            );
        }
    }
    // The general path still lowercases and fills in the port.
    assert_eq!(
        request_authority(&with_host("BB.mc-demo"), dst()).unwrap(),
        "bb.mc-demo:8080"
    );
    assert_eq!(
        request_authority(&with_host("bb:080"), dst()).unwrap(),
        "bb:80"
    );
}
