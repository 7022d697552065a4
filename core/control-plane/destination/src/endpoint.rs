//! What a resolution yields: addresses, each with what the client proxy
//! needs to connect to it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// What the client proxy may assume about the server's protocol, as
/// Linkerd's `ProtocolHint`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProtocolHint {
    /// Nothing: the proxy must detect or pass the protocol through.
    #[default]
    Unknown,
    /// A proxy listens there, so HTTP/1 may be upgraded to HTTP/2 between
    /// the two proxies (Linkerd's `ProtocolHint::H2`).
    H2,
}

/// One address of a resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Where to connect.
    pub address: SocketAddr,
    /// The TLS identity the server must present; `None` when the server is
    /// not meshed, so the client sends plaintext instead of failing.
    pub identity: Option<String>,
    /// What the client may assume about the protocol.
    pub protocol_hint: ProtocolHint,
    /// Whether the port is opaque (its Service's or its pod's
    /// `config.linkerd.io/opaque-ports` lists it). The server proxy skips
    /// TLS detection there, so a client proxy must reach a meshed endpoint
    /// of such a port through the proxy's inbound port instead, naming the
    /// port in a transport header (Linkerd's opaque transport).
    pub opaque: bool,
    /// Labels the client proxy adds to its metrics for this endpoint
    /// (`pod`, `namespace`, `serviceaccount`, `deployment`, ...), so that
    /// `viz stat` can attribute outbound traffic to workloads.
    pub labels: BTreeMap<String, String>,
    /// The authority the client must send instead of the one it asked for:
    /// set on a gateway mirror's endpoints (`<remote Service's fully
    /// qualified name>:<port>`) so the gateway, which receives requests for
    /// the mirror's name, knows which of its cluster's Services is meant.
    pub authority_override: Option<String>,
}

impl Endpoint {
    /// An address nothing is known about (no pod, or a pod without a
    /// proxy): plaintext, no hint, no labels, so the client still reaches
    /// it and claims nothing about who answers.
    pub fn unknown(address: SocketAddr) -> Self {
        Endpoint {
            address,
            identity: None,
            protocol_hint: ProtocolHint::Unknown,
            opaque: false,
            labels: BTreeMap::new(),
            authority_override: None,
        }
    }

    /// The port a client proxy must connect to instead, naming this
    /// endpoint's port in a transport header: the proxy's inbound port,
    /// for a meshed endpoint (one with an identity) of an opaque port.
    /// `None` otherwise: an unmeshed server has no proxy to read a header.
    pub fn opaque_transport_port(&self) -> Option<u16> {
        (self.opaque && self.identity.is_some()).then_some(strait_mesh::ports::INBOUND_PORT)
    }
}

/// Every endpoint of a resolution, keyed by address so that two sets
/// compare equal exactly when a client would see no difference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointSet {
    /// The endpoints by address.
    pub endpoints: BTreeMap<SocketAddr, Endpoint>,
    /// Whether the Service is exported through the cluster's multicluster
    /// gateway, which may forward to it only then. Part of the set so that
    /// exporting or withdrawing a Service moves its resolution and wakes
    /// the gateway's streams.
    pub gateway_exported: bool,
}

impl EndpointSet {
    /// Whether there is nowhere to send traffic (a valid answer: the
    /// Service exists but nothing is ready behind it).
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// How many endpoints there are.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// The endpoint at `address`, if any.
    pub fn get(&self, address: &SocketAddr) -> Option<&Endpoint> {
        self.endpoints.get(address)
    }

    pub(crate) fn insert(&mut self, endpoint: Endpoint) {
        self.endpoints.insert(endpoint.address, endpoint);
    }
}
