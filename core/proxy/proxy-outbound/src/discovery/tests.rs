use std::collections::HashMap;
use std::net::SocketAddr;

use linkerd2_proxy_api::destination::protocol_hint::{H2, OpaqueTransport, Protocol};
use linkerd2_proxy_api::destination::tls_identity::{DnsLikeIdentity, Strategy};
use linkerd2_proxy_api::destination::{
    AddrSet, AuthorityOverride, NoEndpoints, ProtocolHint, TlsIdentity, Update, WeightedAddr,
    WeightedAddrSet, update,
};
use linkerd2_proxy_api::net::TcpAddress;

use super::EndpointMap;
use super::{context_token, gateway_context_token};
use crate::connect::Hint;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn weighted(a: &str, identity: Option<&str>, labels: &[(&str, &str)]) -> WeightedAddr {
    WeightedAddr {
        addr: Some(TcpAddress::from(addr(a))),
        weight: 10_000,
        metric_labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        tls_identity: identity.map(|name| TlsIdentity {
            strategy: Some(Strategy::DnsLikeIdentity(DnsLikeIdentity {
                name: name.to_string(),
            })),
            server_name: Some(DnsLikeIdentity {
                name: name.to_string(),
            }),
        }),
        protocol_hint: identity.map(|_| ProtocolHint {
            protocol: Some(Protocol::H2(H2 {})),
            opaque_transport: None,
        }),
        authority_override: None,
        http2: None,
        resource_ref: None,
    }
}

fn add(addrs: Vec<WeightedAddr>, set: &[(&str, &str)]) -> Update {
    Update {
        update: Some(update::Update::Add(WeightedAddrSet {
            addrs,
            metric_labels: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        })),
    }
}

#[test]
fn adds_decode_identity_hint_and_merged_labels() {
    let mut map = EndpointMap::default();
    map.apply(add(
        vec![
            weighted(
                "10.0.0.1:8080",
                Some("bb.mc-demo.serviceaccount.identity.linkerd.cluster.local"),
                &[("pod", "bb-1"), ("namespace", "mc-demo")],
            ),
            weighted("[fd00::1]:8080", None, &[("pod", "bb-2")]),
        ],
        &[("namespace", "mc-demo"), ("service", "bb")],
    ));
    let meshed = &map.endpoints[&addr("10.0.0.1:8080")];
    assert_eq!(
        meshed.identity.as_deref(),
        Some("bb.mc-demo.serviceaccount.identity.linkerd.cluster.local")
    );
    assert_eq!(meshed.protocol_hint, Hint::H2);
    assert_eq!(
        meshed
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
        ["namespace=mc-demo", "pod=bb-1", "service=bb"]
    );
    let v6 = &map.endpoints[&addr("[fd00::1]:8080")];
    assert_eq!(v6.identity, None);
    assert_eq!(v6.protocol_hint, Hint::Unknown);
    assert_eq!(v6.labels["pod"], "bb-2");
    assert_eq!(map.no_endpoints, None);
}

#[test]
fn removes_and_no_endpoints_empty_the_map() {
    let mut map = EndpointMap::default();
    map.apply(add(
        vec![
            weighted("10.0.0.1:80", None, &[]),
            weighted("10.0.0.2:80", None, &[]),
        ],
        &[],
    ));
    map.apply(Update {
        update: Some(update::Update::Remove(AddrSet {
            addrs: vec![TcpAddress::from(addr("10.0.0.1:80"))],
        })),
    });
    assert_eq!(
        map.endpoints.keys().copied().collect::<Vec<_>>(),
        [addr("10.0.0.2:80")]
    );
    map.apply(Update {
        update: Some(update::Update::NoEndpoints(NoEndpoints { exists: false })),
    });
    assert!(map.endpoints.is_empty());
    assert_eq!(map.no_endpoints, Some(false));
}

#[test]
fn authority_override_is_read() {
    let mut gateway = weighted("10.0.0.9:4143", Some("gw"), &[]);
    gateway.authority_override = Some(AuthorityOverride {
        authority_override: "bb.mc-demo.svc.cluster.local:8080".to_string(),
    });
    let mut map = EndpointMap::default();
    map.apply(add(vec![gateway], &[]));
    assert_eq!(
        map.endpoints[&addr("10.0.0.9:4143")]
            .authority_override
            .as_deref(),
        Some("bb.mc-demo.svc.cluster.local:8080")
    );
}

#[test]
fn context_tokens_are_linkerd_json() {
    assert_eq!(
        context_token("mc-demo", "node-1", "a\"b"),
        r#"{"ns":"mc-demo","nodeName":"node-1","pod":"a\"b"}"#
    );
}

#[test]
fn a_gateway_adds_its_claim_to_the_context_token() {
    assert_eq!(
        gateway_context_token(r#"{"ns":"linkerd-multicluster","pod":"gw-1"}"#),
        r#"{"ns":"linkerd-multicluster","pod":"gw-1","gateway":true}"#
    );
    for other in ["", "{}", "ns:linkerd-multicluster", "  "] {
        assert_eq!(
            gateway_context_token(other),
            r#"{"gateway":true}"#,
            "{other:?}"
        );
    }
}

#[test]
fn opaque_transport_is_read_for_meshed_endpoints_only() {
    let hinted = |a: &str, identity: Option<&str>| {
        let mut addr = weighted(a, identity, &[]);
        addr.protocol_hint = Some(ProtocolHint {
            protocol: identity.map(|_| Protocol::H2(H2 {})),
            opaque_transport: Some(OpaqueTransport { inbound_port: 4143 }),
        });
        addr
    };
    let mut map = EndpointMap::default();
    map.apply(add(
        vec![
            hinted(
                "10.0.0.1:3306",
                Some("db.ns.serviceaccount.identity.linkerd.cluster.local"),
            ),
            hinted("10.0.0.2:3306", None),
            weighted(
                "10.0.0.3:3306",
                Some("db.ns.serviceaccount.identity.linkerd.cluster.local"),
                &[],
            ),
        ],
        &[],
    ));
    assert_eq!(
        map.endpoints[&addr("10.0.0.1:3306")].opaque_transport,
        Some(4143)
    );
    assert_eq!(map.endpoints[&addr("10.0.0.2:3306")].opaque_transport, None);
    assert_eq!(map.endpoints[&addr("10.0.0.3:3306")].opaque_transport, None);
}
