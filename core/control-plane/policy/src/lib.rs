//! The policy index: what each pod port admits, computed from
//! Linkerd's policy resources (`Server`, `AuthorizationPolicy`,
//! `MeshTLSAuthentication`, `NetworkAuthentication`, `ServerAuthorization`,
//! `HTTPRoute` of `policy.linkerd.io` and of the Gateway API) and the pods
//! themselves; and, for client proxies, how connections to each Service
//! port are routed ([`OutboundPolicy`]), computed from Services and the
//! HTTPRoutes whose parent is a Service, as Linkerd's `OutboundPolicies`
//! serves them.
//!
//! The index is plain data fed by `apply`/`delete`/`reset` calls, so the
//! watchers that feed it and the servers that read it can be tested and
//! replaced independently. Its answers are [`InboundPolicy`] values whose
//! candidate authorizations are [`CandidateSet`]s, ready for the
//! authorization plugin host, with Linkerd's names for servers, routes and
//! authorizations so metrics read as `viz authz` expects.
//!
//! [`CandidateSet`]: strait_decisions::authz::CandidateSet

mod authn;
mod config;
mod defaults;
mod inbound;
mod index;
mod outbound;
mod pod;
mod route;
mod server;
mod target;

#[cfg(test)]
mod fixtures;

pub use authn::Ignored;
pub use config::{
    DefaultPolicy, IndexConfig, LINKERD_CLUSTER_NETWORKS, LINKERD_LOOPBACK_NETWORKS,
    UnknownDefaultPolicy,
};
pub use inbound::{InboundPolicy, InboundRoute, PortPolicy};
pub use index::{Index, PortKey};
pub use outbound::{
    OutboundError, OutboundPolicy, OutboundRoute, OutboundRule, OutboundTarget, RouteBackend,
    RouteRef, ServiceRef, service_authority,
};
pub use strait_api::ports::{
    InvalidPorts, LINKERD_DEFAULT_OPAQUE_PORTS, OPAQUE_PORTS_ANNOTATION, PortSet,
};
