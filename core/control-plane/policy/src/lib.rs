//! The inbound policy index: what each pod port admits, computed from
//! Linkerd's policy resources (`Server`, `AuthorizationPolicy`,
//! `MeshTLSAuthentication`, `NetworkAuthentication`, `ServerAuthorization`,
//! `HTTPRoute` of `policy.linkerd.io` and of the Gateway API) and the pods
//! themselves.
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
