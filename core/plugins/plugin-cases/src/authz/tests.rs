use strait_decisions::authz::{Decision, Protocol};
use strait_plugin_host::PluginKind;

use super::*;
use crate::{Cases, load};

fn one(text: &str) -> AuthzCase {
    match load(text, PluginKind::Authz) {
        Ok(Cases::Authz(mut cases)) if cases.len() == 1 => cases.remove(0),
        other => panic!("expected one authz case, got {other:?}"),
    }
}

fn error(text: &str) -> String {
    match load(text, PluginKind::Authz) {
        Err(e) => e.to_string(),
        Ok(cases) => panic!("expected an error, got {cases:?}"),
    }
}

#[test]
fn defaults_make_an_http_get_from_a_plaintext_client() {
    let case = one("- name: min\n  client: plaintext\n  expect: deny\n");
    let request = &*case.request;
    assert_eq!(
        request.client_tls,
        ClientTls::Plaintext("no_tls_from_remote".into())
    );
    assert_eq!(request.client_ip, DEFAULT_CLIENT_IP);
    assert_eq!(request.port, DEFAULT_PORT);
    assert_eq!(request.protocol, Protocol::Http1);
    assert_eq!(
        request.route,
        Some(ResourceRef::new("", "default", "default"))
    );
    let http = request.http.as_ref().unwrap();
    assert_eq!((http.method.as_str(), http.path.as_str()), ("GET", "/"));
    assert!(case.candidates.is_empty());
    assert_eq!(case.expect, AuthzExpect::Deny(None));
}

#[test]
fn every_field_is_read() {
    let case = one(r#"
- name: full
  client: {mtls: a.b.serviceaccount.identity.linkerd.cluster.local, ip: "fd00::7"}
  request:
    method: DELETE
    path: /x
    authority: web:80
    headers: {X-User: alice, x-tags: [a, b]}
    port: 9090
    server: policy.linkerd.io/server/web
    route: {group: g, kind: httproute, name: r}
    protocol: grpc
  candidates:
    - reference: authorizationpolicy/one
      networks: [10.0.0.0/8, 192.168.1.1, {cidr: 0.0.0.0/0, except: [172.16.0.0/12]}]
      authentication: {tls-authenticated: {identities: [x], suffixes: [""]}}
    - reference: default/all
      authentication: tls-unauthenticated
  expect: {allow: policy.linkerd.io/authorizationpolicy/one}
"#);
    let r = &*case.request;
    assert_eq!(
        r.client_tls,
        ClientTls::Mtls("a.b.serviceaccount.identity.linkerd.cluster.local".into())
    );
    assert_eq!(r.client_ip.to_string(), "fd00::7");
    assert_eq!(r.port, 9090);
    assert_eq!(r.protocol, Protocol::Grpc);
    assert_eq!(
        r.server,
        ResourceRef::new("policy.linkerd.io", "server", "web")
    );
    assert_eq!(r.route, Some(ResourceRef::new("g", "httproute", "r")));
    let http = r.http.as_ref().unwrap();
    assert_eq!(http.method, "DELETE");
    assert_eq!(http.authority, "web:80");
    let headers: Vec<(&str, &str)> = http
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()))
        .collect();
    assert_eq!(
        headers,
        [("x-user", "alice"), ("x-tags", "a"), ("x-tags", "b")]
    );
    assert_eq!(case.candidates.len(), 2);
    let first = &case.candidates[0];
    assert_eq!(first.networks.len(), 3);
    assert_eq!(first.networks[1].cidr.prefix_len(), 32);
    assert_eq!(first.networks[2].except.len(), 1);
    assert!(
        matches!(&first.authentication, Authentication::TlsAuthenticated(m) if m.identities == ["x"] && m.suffixes == [""])
    );
    // Networks left out admit any address, in both families.
    assert_eq!(case.candidates[1].networks, Network::all().to_vec());
    assert_eq!(
        case.candidates[1].authentication,
        Authentication::TlsUnauthenticated
    );
    assert_eq!(
        case.expect,
        AuthzExpect::Allow(Some(ExpectedRef {
            group: Some("policy.linkerd.io".into()),
            kind: "authorizationpolicy".into(),
            name: "one".into()
        }))
    );
}

#[test]
fn opaque_connections_have_no_request_or_route() {
    let case = one(
        "- name: tcp\n  client: {tls: true}\n  request: {protocol: opaque, port: 5432}\n  expect: allow\n",
    );
    assert_eq!(case.request.client_tls, ClientTls::TlsAnonymous);
    assert_eq!(case.request.http, None);
    assert_eq!(case.request.route, None);
    assert!(error("- name: tcp\n  client: tls\n  request: {protocol: opaque, method: GET}\n  expect: allow\n")
        .contains("request: an opaque or tls connection carries no method"));
}

#[test]
fn malformed_fields_are_named_with_their_path() {
    let cases = [
        (
            "  client: {mtls: x, tls: true}\n  expect: deny\n",
            "client: give only one of mtls, tls and plaintext",
        ),
        (
            "  client: {ip: 10.0.0.1}\n  expect: deny\n",
            "client: give one of mtls",
        ),
        (
            "  client: {mtls: x, ip: nope}\n  expect: deny\n",
            "client.ip: \"nope\" is not an IP address",
        ),
        (
            "  client: tls\n  request: {port: 70000}\n  expect: deny\n",
            "request.port: expected a port number",
        ),
        (
            "  client: tls\n  request: {protocol: http3}\n  expect: deny\n",
            "request.protocol: \"http3\" is not a protocol",
        ),
        (
            "  client: tls\n  request: {metod: GET}\n  expect: deny\n",
            "request.metod: unknown field",
        ),
        (
            "  client: tls\n  request: {server: justone}\n  expect: deny\n",
            "request.server: \"justone\" is not a reference",
        ),
        (
            "  client: tls\n  candidates: [{reference: a/b}]\n  expect: deny\n",
            "candidates[0].authentication: missing",
        ),
        (
            "  client: tls\n  candidates: [{reference: a/b, authentication: anyone}]\n  expect: deny\n",
            "candidates[0].authentication: \"anyone\" is not an authentication",
        ),
        (
            "  client: tls\n  candidates: [{reference: a/b, authentication: unauthenticated, networks: [10.0.0.0/40]}]\n  expect: deny\n",
            "candidates[0].networks[0]:",
        ),
        (
            "  client: tls\n  expect: maybe\n",
            "expect: \"maybe\" is not an authz expectation",
        ),
        (
            "  client: tls\n  expect: {allow: x/y, deny: z}\n",
            "expect: give exactly one of allow and deny",
        ),
        ("  client: tls\n", "expect: missing"),
        ("  expect: deny\n", "client: missing"),
    ];
    for (body, wanted) in cases {
        let err = error(&format!("- name: bad\n{body}"));
        assert!(err.starts_with("case 0 (\"bad\"): "), "{err}");
        assert!(err.contains(wanted), "{err:?} should contain {wanted:?}");
    }
}

#[test]
fn expectations_compare_decisions() {
    let reference = ResourceRef::new("policy.linkerd.io", "authorizationpolicy", "a");
    let allow = Decision::Allow(reference.clone());
    let deny = Decision::Deny("no way".into());
    let by = |group: Option<&str>, name: &str| {
        AuthzExpect::Allow(Some(ExpectedRef {
            group: group.map(Into::into),
            kind: "authorizationpolicy".into(),
            name: name.into(),
        }))
    };
    assert!(satisfies(&AuthzExpect::Allow(None), &allow));
    assert!(!satisfies(&AuthzExpect::Allow(None), &deny));
    assert!(satisfies(&by(None, "a"), &allow));
    assert!(satisfies(&by(Some("policy.linkerd.io"), "a"), &allow));
    assert!(!satisfies(&by(Some(""), "a"), &allow));
    assert!(!satisfies(&by(None, "b"), &allow));
    assert!(satisfies(&AuthzExpect::Deny(None), &deny));
    assert!(satisfies(&AuthzExpect::Deny(Some("no w".into())), &deny));
    assert!(!satisfies(&AuthzExpect::Deny(Some("yes".into())), &deny));
    assert!(!satisfies(&AuthzExpect::Deny(None), &allow));
    assert_eq!(
        describe_decision(&allow),
        "allow policy.linkerd.io/authorizationpolicy/a"
    );
    assert_eq!(
        describe_decision(&Decision::Allow(ResourceRef::new("", "plugin", "p"))),
        "allow plugin/p"
    );
    assert_eq!(describe_decision(&deny), "deny (no way)");
}
