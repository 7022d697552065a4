//! strait's identity controller.
//!
//! Every meshed pod's proxy asks this service for a short-lived certificate
//! naming its service account, over Linkerd's `io.linkerd.proxy.identity.Identity`
//! `Certify` API, so unmodified Linkerd proxies and strait's own proxy both
//! get mTLS identities. All clusters of a multicluster mesh share one trust
//! anchor; each may sign with its own issuer under it.
//!
//! The pieces are layered so that only the last one knows about gRPC:
//! [`name`] builds identity names, [`ca`] and [`issuer`] load and check the
//! CA material, [`csr`] checks what a proxy asked for, [`token`] says which
//! service account a token belongs to, [`certify`] puts them together, and
//! [`grpc`] serves it.

pub mod ca;
pub mod certify;
pub mod csr;
pub mod grpc;
pub mod issuer;
pub mod name;
pub mod token;

pub use ca::{CaError, CaProblem, SigningCa, TrustAnchor, Validity};
pub use certify::{Certifier, CertifyError, Issued, SigningError};
pub use csr::{CsrError, Malformation, NameFault};
pub use grpc::IdentityService;
pub use issuer::Issuer;
pub use name::{IdentityDomain, NameError};
pub use token::{EmbeddedTokens, ServiceAccountRef, TokenRejected, TokenValidator};
