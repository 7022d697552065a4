//! The index's answer for one pod port.

use std::sync::Arc;

use strait_decisions::authz::{CandidateSet, Protocol, ResourceRef};

/// The inbound policy of one pod port: which server it belongs to, how
/// connections are handled and who may use each route.
#[derive(Clone, Debug)]
pub struct InboundPolicy {
    /// The Server (`policy.linkerd.io`, `server`, name) or the default
    /// server (`default`, named after the default policy), as metrics
    /// label it.
    pub server: ResourceRef,
    /// How connections are handled.
    pub protocol: Protocol,
    /// Connection-level candidates, for opaque and TLS traffic: the
    /// server's authorizations, then loopback.
    pub authorizations: CandidateSet,
    /// Request-level routes, for HTTP and gRPC traffic; the first route
    /// whose paths match a request applies.
    pub routes: Vec<InboundRoute>,
}

/// One route of a server, with its own candidates so that probes can pass
/// a policy that refuses everything else.
#[derive(Clone, Debug)]
pub struct InboundRoute {
    /// The route (`default:probe`, `default:default`), as metrics label it.
    pub reference: ResourceRef,
    /// Exact paths of `GET` requests the route takes; empty means every
    /// request.
    pub paths: Vec<String>,
    /// The route's candidates: its own authorizations, then the server's,
    /// then loopback, as the proxy orders them.
    pub authorizations: CandidateSet,
}

impl InboundPolicy {
    /// Whether two policies say the same, ignoring the ids of their
    /// candidate sets, so an unchanged policy keeps its prepared sets.
    pub fn same_as(&self, other: &InboundPolicy) -> bool {
        self.server == other.server
            && self.protocol == other.protocol
            && self.authorizations[..] == other.authorizations[..]
            && self.routes.len() == other.routes.len()
            && self.routes.iter().zip(&other.routes).all(|(a, b)| {
                a.reference == b.reference
                    && a.paths == b.paths
                    && a.authorizations[..] == b.authorizations[..]
            })
    }

    /// The route a request to `path` takes: a route listing the path, else
    /// the catch-all route. Listed paths are for `GET` requests; checking
    /// the method is left to the caller, which has the request.
    pub fn route_for(&self, path: &str) -> Option<&InboundRoute> {
        self.routes
            .iter()
            .find(|r| r.paths.iter().any(|p| p == path))
            .or_else(|| self.routes.iter().find(|r| r.paths.is_empty()))
    }
}

/// A port's current policy and the index generation at which it last
/// changed, so watchers can tell whether to push an update.
#[derive(Clone, Debug)]
pub struct PortPolicy {
    /// The policy, shared with every reader.
    pub policy: Arc<InboundPolicy>,
    /// The index generation of the last change to this port's policy.
    pub generation: u64,
}
