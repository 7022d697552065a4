//! The index's answer for one pod port.

use std::sync::Arc;

use strait_api::policy::httproute::HttpRouteMatch;
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
    /// Request-level routes, for HTTP and gRPC traffic: the Server's
    /// HTTPRoutes when it has any (a request matching none is refused
    /// with 404), else the probe and default routes.
    pub routes: Vec<InboundRoute>,
}

/// One route of a server, with its own candidates: probes pass a policy
/// that refuses everything else, and an AuthorizationPolicy targeting an
/// HTTPRoute admits requests on that route only.
#[derive(Clone, Debug)]
pub struct InboundRoute {
    /// The route as metrics label it: `default/probe`, `default/default`,
    /// or an HTTPRoute (its group, kind `HTTPRoute`, its name).
    pub reference: ResourceRef,
    /// Host names the route applies to, as written (`*.` prefixes a
    /// suffix); empty means any.
    pub hosts: Vec<String>,
    /// Request matches, any of which selects the route; empty means every
    /// request.
    pub matches: Vec<HttpRouteMatch>,
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
                    && a.hosts == b.hosts
                    && a.matches == b.matches
                    && a.authorizations[..] == b.authorizations[..]
            })
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
