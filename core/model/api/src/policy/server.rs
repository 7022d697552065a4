//! `Server`: a port of a set of pods (or external workloads) that
//! authorization policies can target.
//!
//! Linkerd serves three versions and stores `v1beta3`; each has its own
//! module so a manifest is decoded with exactly the fields its version has.
//! Later versions only add optional fields, so the API server serves every
//! stored Server in any version without a conversion webhook, and
//! controllers watch [`v1beta3`], re-exported here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod v1beta1;
pub mod v1beta2;
pub mod v1beta3;

pub use v1beta3::{Server, ServerSpec};

/// How the proxy handles inbound connections to a Server's port, instead of
/// detecting the protocol from the first bytes.
///
/// The names are Linkerd's exactly; anything else is refused, as Linkerd's
/// policy controller refuses it, rather than read as a different protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum ProxyProtocol {
    /// Detect the protocol (the default).
    #[default]
    #[serde(rename = "unknown")]
    Unknown,
    /// HTTP/1.x: authorized and routed per request.
    #[serde(rename = "HTTP/1")]
    Http1,
    /// HTTP/2: authorized and routed per request.
    #[serde(rename = "HTTP/2")]
    Http2,
    /// gRPC: per request, with gRPC status codes for denials.
    #[serde(rename = "gRPC")]
    Grpc,
    /// Opaque TCP: authorized per connection, no detection (for protocols
    /// where the server speaks first).
    #[serde(rename = "opaque")]
    Opaque,
    /// TLS the application terminates itself: authorized per connection.
    #[serde(rename = "TLS")]
    Tls,
}

#[cfg(test)]
mod tests;
