use super::*;
use crate::authz::IpAddress;

const BB: &str = "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local";

fn client(tls: ClientTls) -> Client {
    Client {
        tls,
        ip: IpAddress::Ipv4((10, 0, 0, 1)),
    }
}

fn rule(identities: &[&str], suffixes: &[&str]) -> IdentityMatch {
    IdentityMatch {
        identities: identities.iter().map(|s| s.to_string()).collect(),
        suffixes: suffixes.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn parses_the_mesh_identity_shape() {
    assert_eq!(
        parse(BB),
        Some(MeshIdentity {
            service_account: "bb",
            namespace: "mc-demo",
            control_plane_namespace: "linkerd",
            trust_domain: "cluster.local",
        })
    );
    for bad in [
        "",
        "bb.mc-demo.linkerd.cluster.local",
        ".mc-demo.serviceaccount.identity.linkerd.cluster.local",
        "bb.serviceaccount.identity.linkerd.cluster.local",
        "bb.mc-demo.serviceaccount.identity.linkerd",
        "bb.a.b.serviceaccount.identity.linkerd.cluster.local",
    ] {
        assert_eq!(parse(bad), None, "{bad}");
    }
}

#[test]
fn only_mtls_clients_have_an_identity() {
    assert_eq!(mtls_identity(&client(ClientTls::Mtls(BB.into()))), Some(BB));
    assert_eq!(mtls_identity(&client(ClientTls::TlsAnonymous)), None);
    assert_eq!(
        mtls_identity(&client(ClientTls::Plaintext("no_tls_from_remote".into()))),
        None
    );
    assert_eq!(
        client_identity(&client(ClientTls::Mtls(BB.into()))).map(|id| id.namespace),
        Some("mc-demo")
    );
    assert_eq!(
        client_identity(&client(ClientTls::Mtls("spiffe-ish".into()))),
        None
    );
}

#[test]
fn identity_match_is_exact_or_dot_suffix() {
    assert!(matches(&rule(&[BB], &[]), BB));
    assert!(!matches(
        &rule(
            &["b.mc-demo.serviceaccount.identity.linkerd.cluster.local"],
            &[]
        ),
        BB
    ));
    assert!(matches(
        &rule(
            &[],
            &["mc-demo.serviceaccount.identity.linkerd.cluster.local"]
        ),
        BB
    ));
    // A suffix must start at a label boundary.
    assert!(!matches(
        &rule(&[], &["demo.serviceaccount.identity.linkerd.cluster.local"]),
        BB
    ));
    assert!(matches(&rule(&[], &[""]), BB));
    assert!(!matches(&rule(&[], &[]), BB));
}

#[test]
fn authentication_admits_by_transport() {
    let mtls = ClientTls::Mtls(BB.into());
    let anon = ClientTls::TlsAnonymous;
    let plain = ClientTls::Plaintext("no_tls_from_remote".into());
    assert!(authentication_admits(
        &Authentication::Unauthenticated,
        &plain
    ));
    assert!(authentication_admits(
        &Authentication::TlsUnauthenticated,
        &anon
    ));
    assert!(!authentication_admits(
        &Authentication::TlsUnauthenticated,
        &plain
    ));
    let only_bb = Authentication::TlsAuthenticated(rule(&[BB], &[]));
    assert!(authentication_admits(&only_bb, &mtls));
    assert!(!authentication_admits(&only_bb, &anon));
    assert!(!authentication_admits(
        &only_bb,
        &ClientTls::Mtls("x.mc-demo.serviceaccount.identity.linkerd.cluster.local".into())
    ));
}
