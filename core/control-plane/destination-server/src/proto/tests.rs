use std::collections::BTreeMap;
use std::net::SocketAddr;

use linkerd2_proxy_api::destination::protocol_hint::Protocol;
use linkerd2_proxy_api::destination::tls_identity::Strategy;
use strait_destination::{Endpoint, ProtocolHint};

use super::*;

const IDENTITY: &str = "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local";

fn endpoint(identity: Option<&str>, hint: ProtocolHint) -> Endpoint {
    Endpoint {
        address: "10.0.0.7:8080".parse().unwrap(),
        identity: identity.map(str::to_string),
        protocol_hint: hint,
        opaque: false,
        labels: BTreeMap::from([("pod".to_string(), "bb-1".to_string())]),
        authority_override: None,
    }
}

#[test]
fn a_meshed_endpoint_carries_its_identity_and_the_h2_hint() {
    let addr = to_weighted_addr(&endpoint(Some(IDENTITY), ProtocolHint::H2));
    let socket = SocketAddr::try_from(addr.addr.unwrap()).unwrap();
    assert_eq!(socket, "10.0.0.7:8080".parse().unwrap());
    assert_eq!(addr.weight, 10_000);
    assert_eq!(
        addr.metric_labels.get("pod").map(String::as_str),
        Some("bb-1")
    );
    let tls = addr.tls_identity.unwrap();
    match tls.strategy {
        Some(Strategy::DnsLikeIdentity(id)) => assert_eq!(id.name, IDENTITY),
        other => panic!("expected a DNS-like identity, got {other:?}"),
    }
    assert_eq!(tls.server_name.unwrap().name, IDENTITY);
    assert!(matches!(
        addr.protocol_hint.unwrap().protocol,
        Some(Protocol::H2(_))
    ));
    assert_eq!(addr.authority_override, None);
}

#[test]
fn an_unmeshed_endpoint_is_plaintext_without_a_hint() {
    let addr = to_weighted_addr(&endpoint(None, ProtocolHint::Unknown));
    assert_eq!(addr.tls_identity, None);
    assert_eq!(addr.protocol_hint, None);
}

#[test]
fn a_gateway_endpoint_carries_the_authority_override() {
    let mut gateway = endpoint(Some(IDENTITY), ProtocolHint::H2);
    gateway.authority_override = Some("bb.mc-demo.svc.cluster.local:8080".into());
    let addr = to_weighted_addr(&gateway);
    assert_eq!(
        addr.authority_override.unwrap().authority_override,
        "bb.mc-demo.svc.cluster.local:8080"
    );
}

#[test]
fn the_default_profile_has_linkerds_retry_budget() {
    let profile = default_profile("bb.mc-demo.svc.cluster.local".into(), false, None);
    assert_eq!(profile.fully_qualified_name, "bb.mc-demo.svc.cluster.local");
    assert!(!profile.opaque_protocol);
    assert!(profile.routes.is_empty());
    let budget = profile.retry_budget.unwrap();
    assert_eq!(budget.retry_ratio, 0.2);
    assert_eq!(budget.min_retries_per_second, 10);
    let ttl = budget.ttl.unwrap();
    assert_eq!((ttl.seconds, ttl.nanos), (10, 0));
}

#[test]
fn a_meshed_endpoint_of_an_opaque_port_is_reached_through_the_inbound_port() {
    let mut opaque = endpoint(Some(IDENTITY), ProtocolHint::H2);
    opaque.opaque = true;
    let hint = to_weighted_addr(&opaque).protocol_hint.unwrap();
    assert!(matches!(hint.protocol, Some(Protocol::H2(_))));
    assert_eq!(hint.opaque_transport.map(|t| t.inbound_port), Some(4143));
    // Not opaque, or not meshed: no opaque transport.
    let h2 = to_weighted_addr(&endpoint(Some(IDENTITY), ProtocolHint::H2));
    assert_eq!(h2.protocol_hint.unwrap().opaque_transport, None);
    let mut plain = endpoint(None, ProtocolHint::Unknown);
    plain.opaque = true;
    assert_eq!(to_weighted_addr(&plain).protocol_hint, None);
}

#[test]
fn the_profile_of_an_opaque_port_says_so() {
    let profile = default_profile("bb.mc-demo.svc.cluster.local".into(), true, None);
    assert!(profile.opaque_protocol);
}
