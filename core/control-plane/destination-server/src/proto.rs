//! The index's endpoints in the shape of Linkerd's destination API.

use std::collections::HashMap;
use std::time::Duration;

use linkerd2_proxy_api::destination::protocol_hint::{H2, OpaqueTransport, Protocol};
use linkerd2_proxy_api::destination::tls_identity::{DnsLikeIdentity, Strategy};
use linkerd2_proxy_api::destination::{
    AddrSet, AuthorityOverride, DestinationProfile, NoEndpoints, ProtocolHint as ProtoHint,
    RetryBudget, TlsIdentity, Update, WeightedAddr, WeightedAddrSet, update,
};
use linkerd2_proxy_api::net::TcpAddress;
use strait_destination::{Endpoint, ProtocolHint};

/// The weight of every endpoint, as Linkerd sends it: all endpoints are
/// equal, and the proxy balances by load.
pub const DEFAULT_WEIGHT: u32 = 10_000;

/// Linkerd's default retry budget: retries may add at most this fraction of
/// the requests...
pub const RETRY_BUDGET_RATIO: f32 = 0.2;

/// ...plus this many retries per second whatever the traffic...
pub const RETRY_BUDGET_MIN_PER_SECOND: u32 = 10;

/// ...counted over this window.
pub const RETRY_BUDGET_TTL: Duration = Duration::from_secs(10);

/// One endpoint as the proxy reads it: where to connect, the identity to
/// verify (none sends plaintext, so an unmeshed server is still reachable),
/// whether HTTP/2 may be used between the proxies, whether opaque traffic
/// must go through the server proxy's inbound port behind a transport
/// header (a meshed endpoint of an opaque port: the server proxy does not
/// look for TLS on the port itself), the labels of its metrics, and the
/// authority to send when a gateway must route it.
pub fn to_weighted_addr(endpoint: &Endpoint) -> WeightedAddr {
    let tls_identity = endpoint.identity.as_ref().map(|name| TlsIdentity {
        strategy: Some(Strategy::DnsLikeIdentity(DnsLikeIdentity {
            name: name.clone(),
        })),
        server_name: Some(DnsLikeIdentity { name: name.clone() }),
    });
    let protocol = match endpoint.protocol_hint {
        ProtocolHint::H2 => Some(Protocol::H2(H2 {})),
        ProtocolHint::Unknown => None,
    };
    let opaque_transport = endpoint
        .opaque_transport_port()
        .map(|port| OpaqueTransport {
            inbound_port: u32::from(port),
        });
    let protocol_hint = (protocol.is_some() || opaque_transport.is_some()).then_some(ProtoHint {
        protocol,
        opaque_transport,
    });
    WeightedAddr {
        addr: Some(TcpAddress::from(endpoint.address)),
        weight: DEFAULT_WEIGHT,
        metric_labels: endpoint
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        tls_identity,
        protocol_hint,
        authority_override: endpoint.authority_override.as_ref().map(|authority| {
            AuthorityOverride {
                authority_override: authority.clone(),
            }
        }),
        http2: None,
        resource_ref: None,
    }
}

/// The labels of a whole set: the Service asked for, as Linkerd labels it,
/// so the proxy's metrics name the destination Service.
pub(crate) fn set_labels(namespace: &str, service: &str) -> HashMap<String, String> {
    HashMap::from([
        ("namespace".to_string(), namespace.to_string()),
        ("service".to_string(), service.to_string()),
    ])
}

/// An update adding (or replacing) `endpoints`.
pub(crate) fn add<'a>(
    endpoints: impl IntoIterator<Item = &'a Endpoint>,
    metric_labels: HashMap<String, String>,
) -> Update {
    Update {
        update: Some(update::Update::Add(WeightedAddrSet {
            addrs: endpoints.into_iter().map(to_weighted_addr).collect(),
            metric_labels,
        })),
    }
}

/// An update removing the endpoints at `addresses`.
pub(crate) fn remove(addresses: impl IntoIterator<Item = std::net::SocketAddr>) -> Update {
    Update {
        update: Some(update::Update::Remove(AddrSet {
            addrs: addresses.into_iter().map(TcpAddress::from).collect(),
        })),
    }
}

/// An update saying there is nowhere to send traffic; `exists` tells the
/// proxy whether the Service is there at all.
pub(crate) fn no_endpoints(exists: bool) -> Update {
    Update {
        update: Some(update::Update::NoEndpoints(NoEndpoints { exists })),
    }
}

/// The profile of a destination without a ServiceProfile, as Linkerd sends
/// it: no routes, the default retry budget, `opaque` when the port is
/// annotated opaque (the client proxy then skips protocol detection). An
/// IP target carries its endpoint so the proxy can connect to it directly.
pub fn default_profile(
    fully_qualified_name: String,
    opaque: bool,
    endpoint: Option<WeightedAddr>,
) -> DestinationProfile {
    DestinationProfile {
        fully_qualified_name,
        opaque_protocol: opaque,
        routes: Vec::new(),
        retry_budget: Some(RetryBudget {
            retry_ratio: RETRY_BUDGET_RATIO,
            min_retries_per_second: RETRY_BUDGET_MIN_PER_SECOND,
            ttl: RETRY_BUDGET_TTL.try_into().ok(),
        }),
        dst_overrides: Vec::new(),
        endpoint,
        parent_ref: None,
        profile_ref: None,
    }
}

#[cfg(test)]
mod tests;
