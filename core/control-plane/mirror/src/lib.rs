//! The service mirror: makes the Services a target cluster exports reachable
//! here, as `<service>-<target cluster>`.
//!
//! One [`ServiceMirror`] runs per Link. It watches the target cluster's
//! Services, asks the export plugin how each is exported (not at all, through
//! the gateway, or pod to pod by remote discovery), and writes the mirror
//! Services (with Endpoints to the gateway in gateway mode) into this cluster,
//! recording each outcome in the Link's status. Services the plugin makes
//! federated members join `<service>-federated` here, with this cluster's
//! own Service of that name ([`run_local_federation`]). It talks to both clusters only
//! through [`strait_store::ClusterStore`], so it runs unchanged against the
//! embedded store and against Kubernetes.

mod config;
mod controller;
mod desired;
mod federated;
mod headless;
pub mod leader;
mod metrics;
mod probe;
mod status;
mod supervisor;

pub use config::{LinkConfig, LinkError, LinkFault};
pub use controller::{MirrorHandle, ServiceMirror};
pub use desired::FIELD_MANAGER;
pub use federated::leave_cluster;
pub use federated::local::run_local_federation;
pub use metrics::MirrorMetrics;
pub use supervisor::{EVENT_COMPONENT, INVALID_LINK, connect_embedded, supervise_link};
