//! Why a controller could not start, or stopped.

use std::net::SocketAddr;

use strait_control_plane::ServeError;
use strait_plugin_distribution::OfferError;
use strait_plugin_host::PluginError;

/// Why a controller could not start or stopped. Each variant names what was
/// at fault (the address, the plugin's origin, the Lease) in one line, which
/// is what the command prints before exiting.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The admin endpoint's address could not be bound.
    #[error("cannot serve the admin endpoint on {addr}: {source}")]
    Admin {
        /// The address asked for (`--admin-addr`).
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The controller's TLS could not be set up (anchors, identity name,
    /// the identity service's address).
    #[error("{what}'s TLS: {reason}")]
    Tls {
        /// Which controller.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The gRPC services could not be served, or their server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A plugin (or the host that runs plugins) could not be loaded; the
    /// error names the plugin's origin.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The plugin distribution refused a plugin (empty, too large).
    #[error(transparent)]
    Offer(#[from] OfferError),
    /// The Lease of a service mirror's election is not usable (no holder
    /// identity, unsafe timing); the reason names the Lease.
    #[error(transparent)]
    Lease {
        /// What is wrong with it.
        #[from]
        reason: strait_mirror::leader::LeaseConfigError,
    },
}
