//! The mesh's workload identity and mutual TLS, for proxies and the control plane.
//!
//! A meshed proxy proves who it is with a short-lived certificate that the
//! identity service issues for its service account, and it trusts nothing
//! but the mesh's shared trust anchors. This crate holds the pieces both
//! halves of the proxy share:
//!
//! - [`TrustRoots`]: the anchors, the only certificates ever trusted;
//! - [`LocalIdentity`]: the proxy's own key and certificate signing request;
//! - [`certify_loop`]: obtains and renews [`Credentials`] over Linkerd's
//!   `io.linkerd.proxy.identity.Identity/Certify`, publishing them on a
//!   `watch` channel so connections always use the current certificate;
//! - [`Credentials`]: rustls server and client configurations for mTLS;
//! - [`accept`] and [`connect`]: TLS detection and handshakes on sockets;
//! - [`control`]: TLS for the control plane's gRPC, servers and clients.

mod certify;
mod conn;
pub mod control;
mod credentials;
mod error;
mod local;
mod roots;

pub use certify::{
    CertifyConfig, TokenSource, certify_loop, certify_loop_with_config, wait_for_credentials,
};
pub use conn::{
    Accepted, AcceptedIo, MaybeTls, NoTlsReason, TlsStatus, accept, connect, connect_transport,
    peer_identity,
};
pub use credentials::Credentials;
pub use error::{
    CertificateProblem, ConfigProblem, IdentityNameProblem, RootsProblem, TlsError, X509ParseError,
};
pub use local::LocalIdentity;
pub use roots::TrustRoots;

/// Certificate types used in this crate's API.
pub use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The one application protocol (ALPN) a mesh client may offer: Linkerd's
/// transport protocol, which its proxies offer for opaque transport. Mesh
/// clients otherwise offer none. Negotiated, it means the client writes a
/// transport header first.
pub const MESH_ALPN: &[u8] = b"transport.l5d.io/v1";
/// The TLS stream a successful [`connect`] returns, re-exported so callers
/// need not depend on tokio-rustls themselves.
pub use tokio_rustls::client::TlsStream;

/// The crypto provider every configuration of this crate is built with:
/// ring, chosen explicitly so that no process-wide default (or another
/// crate's choice of aws-lc) changes what the proxy negotiates.
pub fn crypto_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
