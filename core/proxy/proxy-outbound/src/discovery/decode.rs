//! Reading the Destination API's updates into endpoint maps.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use linkerd2_proxy_api::destination::protocol_hint::Protocol;
use linkerd2_proxy_api::destination::tls_identity::Strategy;
use linkerd2_proxy_api::destination::{Update, WeightedAddr, update};
use linkerd2_proxy_api::net::{IpAddress, TcpAddress, ip_address};

use crate::connect::{EndpointTarget, Hint};

/// The endpoints one `Get` stream has announced so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EndpointMap {
    pub(crate) endpoints: BTreeMap<SocketAddr, EndpointTarget>,
    /// Whether the last update said there are none, and whether the
    /// destination exists at all.
    pub(crate) no_endpoints: Option<bool>,
}

impl EndpointMap {
    /// Applies one update. An address that cannot be read is skipped with
    /// a log line: one bad endpoint must not hide the others.
    pub(crate) fn apply(&mut self, update: Update) {
        match update.update {
            Some(update::Update::Add(set)) => {
                for addr in set.addrs {
                    match endpoint(&addr, &set.metric_labels) {
                        Some(target) => {
                            self.endpoints.insert(target.addr, target);
                        }
                        None => tracing::warn!(?addr, "skipping an unreadable endpoint"),
                    }
                }
                self.no_endpoints = None;
            }
            Some(update::Update::Remove(set)) => {
                for addr in set.addrs {
                    if let Some(addr) = socket_addr(&addr) {
                        self.endpoints.remove(&addr);
                    }
                }
                if self.endpoints.is_empty() {
                    self.no_endpoints = Some(true);
                }
            }
            Some(update::Update::NoEndpoints(none)) => {
                self.endpoints.clear();
                self.no_endpoints = Some(none.exists);
            }
            None => {}
        }
    }
}

/// Reads a `TcpAddress`; `None` when it has no IP or a port out of range.
pub(crate) fn socket_addr(addr: &TcpAddress) -> Option<SocketAddr> {
    let ip = ip_addr(addr.ip.as_ref()?)?;
    let port = u16::try_from(addr.port).ok()?;
    Some(SocketAddr::new(ip, port))
}

fn ip_addr(ip: &IpAddress) -> Option<IpAddr> {
    match ip.ip.as_ref()? {
        ip_address::Ip::Ipv4(v4) => Some(IpAddr::V4(Ipv4Addr::from(*v4))),
        ip_address::Ip::Ipv6(v6) => {
            let bits = (u128::from(v6.first) << 64) | u128::from(v6.last);
            Some(IpAddr::V6(Ipv6Addr::from(bits)))
        }
    }
}

/// One endpoint: its address, identity, hint, authority override and its
/// labels (the set's, overridden by its own).
pub(crate) fn endpoint(
    addr: &WeightedAddr,
    set_labels: &HashMap<String, String>,
) -> Option<EndpointTarget> {
    let socket = socket_addr(addr.addr.as_ref()?)?;
    let identity = addr
        .tls_identity
        .as_ref()
        .and_then(|tls| match tls.strategy.as_ref() {
            Some(Strategy::DnsLikeIdentity(id)) => Some(id.name.clone()),
            _ => tls.server_name.as_ref().map(|name| name.name.clone()),
        })
        .filter(|name| !name.is_empty());
    let protocol_hint = match addr
        .protocol_hint
        .as_ref()
        .and_then(|h| h.protocol.as_ref())
    {
        Some(Protocol::H2(_)) => Hint::H2,
        _ => Hint::Unknown,
    };
    // Only a meshed endpoint (one with an identity to verify) has a proxy
    // to read the header; without one the hint is ignored.
    let opaque_transport = addr
        .protocol_hint
        .as_ref()
        .and_then(|h| h.opaque_transport.as_ref())
        .and_then(|t| u16::try_from(t.inbound_port).ok())
        .filter(|port| *port != 0 && identity.is_some());
    let authority_override = addr
        .authority_override
        .as_ref()
        .map(|a| a.authority_override.clone())
        .filter(|a| !a.is_empty());
    let mut labels: BTreeMap<String, String> = set_labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.extend(
        addr.metric_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    Some(EndpointTarget {
        addr: socket,
        identity,
        authority_override,
        protocol_hint,
        opaque_transport,
        labels,
    })
}
