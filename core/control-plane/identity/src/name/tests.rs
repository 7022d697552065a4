use super::*;

#[test]
fn default_identity_matches_linkerd() {
    let domain = IdentityDomain::default();
    assert_eq!(
        domain.identity("mc-demo", "slow-cooker"),
        "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local"
    );
}

#[test]
fn custom_domain() {
    let domain = IdentityDomain::new("strait", "east.example").expect("valid domain");
    assert_eq!(
        domain.identity("ns", "sa"),
        "sa.ns.serviceaccount.identity.strait.east.example"
    );
    assert_eq!(domain.control_plane_ns(), "strait");
    assert_eq!(domain.trust_domain(), "east.example");
}

#[test]
fn parse_round_trips() {
    let domain = IdentityDomain::default();
    let id = domain.identity("mc-demo", "slow-cooker");
    assert_eq!(domain.parse(&id), Some(("mc-demo", "slow-cooker")));
    assert_eq!(
        domain.parse("slow-cooker.mc-demo.serviceaccount.identity.other.cluster.local"),
        None
    );
    assert_eq!(
        domain.parse("mc-demo.serviceaccount.identity.linkerd.cluster.local"),
        None
    );
    assert_eq!(
        domain.parse("a.b.c.serviceaccount.identity.linkerd.cluster.local"),
        None
    );
}

#[test]
fn invalid_parts_are_refused_with_a_reason() {
    let err = IdentityDomain::new("", "cluster.local").expect_err("empty namespace");
    assert!(err.to_string().contains("control-plane namespace"), "{err}");
    let err = IdentityDomain::new("link.erd", "cluster.local").expect_err("dotted namespace");
    assert!(err.to_string().contains("single label"), "{err}");
    let err = IdentityDomain::new("linkerd", "Cluster.Local").expect_err("uppercase");
    assert!(err.to_string().contains("trust domain"), "{err}");
    let err = IdentityDomain::new("linkerd", "cluster..local").expect_err("empty label");
    assert!(err.to_string().contains("empty label"), "{err}");
    let err = IdentityDomain::new("-linkerd", "cluster.local").expect_err("leading dash");
    assert!(err.to_string().contains("'-'"), "{err}");
}
