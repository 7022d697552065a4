//! strait's control plane, assembled and served.
//!
//! Each service lives in its own crate and reads its index through a small
//! trait; none of them knows about sockets or tasks. This crate is where
//! they meet the runtime: [`ControlPlane`] collects the services a process
//! runs (identity, inbound policy with plugin distribution, destination)
//! with the background feeders that keep their indexes in step with a
//! cluster store, and serves them on one gRPC address.
//!
//! The Kubernetes controllers run one service each on Linkerd's ports (the
//! proxy finds identity on 8080, destination on 8086 and policy on 8090);
//! the embedded runtime serves all of them on one loopback address per
//! cluster. Both go through the same code. Off loopback the services speak
//! only TLS ([`ServerTransport`]), with certificates from the mesh's own
//! identity service.

mod control_plane;
mod serve;
mod tls;

pub use control_plane::ControlPlane;
pub use serve::{RunningControlPlane, SHUTDOWN_GRACE, ServeError};
pub use tls::{HANDSHAKE_TIMEOUT, MAX_HANDSHAKES, ServerTransport};

/// Linkerd's ports, which proxies are configured with by default.
pub mod ports {
    /// The identity service (`linkerd-identity:8080`).
    pub const IDENTITY: u16 = 8080;
    /// The destination service (`linkerd-dst:8086`).
    pub const DESTINATION: u16 = 8086;
    /// The inbound policy service (`linkerd-policy:8090`).
    pub const POLICY: u16 = 8090;
}
