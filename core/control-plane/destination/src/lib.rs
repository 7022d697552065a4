//! The destination index: what Linkerd's `Destination.Get` answers.
//!
//! A proxy asks for an authority (`web.emojivoto.svc.cluster.local:80`, a
//! short form, or a ClusterIP); the index names the Service port it means
//! ([`ClusterIndex::resolve`]) and the ready endpoints behind it, each with
//! the TLS identity the proxy must verify, a protocol hint and metric labels
//! ([`Clusters::endpoints`]). Remote-discovery mirrors resolve through the
//! linked cluster's pods, so the client connects pod to pod with mTLS;
//! gateway mirrors resolve through their own Endpoints, with the gateway's
//! identity. An IP that is no ClusterIP (a StatefulSet member, a headless
//! Service's pod, a direct call) resolves to the endpoint of the meshed pod
//! that owns it, built as that pod's Service endpoints are
//! ([`ClusterIndex::address_endpoint`]), so pod-to-pod calls by address get
//! mTLS too.
//!
//! Like the policy index, this is plain data fed by `apply`/`delete`/`reset`
//! calls from whatever watches the API servers, with generations instead of
//! channels: a `Get` stream remembers the generation it last sent and asks
//! [`Clusters::changed_since`] what moved.

mod authority;
mod cluster;
mod clusters;
mod config;
mod endpoint;
mod pod;

#[cfg(test)]
mod fixtures;

pub use authority::{ResolveError, Target};
pub use cluster::ClusterIndex;
pub use clusters::{Clusters, Resolution, ResolutionKey};
pub use config::ClusterConfig;
pub use endpoint::{Endpoint, EndpointSet, ProtocolHint};
