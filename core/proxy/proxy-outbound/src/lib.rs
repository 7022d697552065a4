//! The proxy's outbound side.
//!
//! An application's outbound connection is handed to
//! [`Outbound::serve_connection`] with the address it was sent to. The
//! protocol is detected from its first bytes:
//!
//! - HTTP/1 and HTTP/2: each request's authority is resolved through
//!   Linkerd's Destination API ([`Discovery`]), one endpoint is chosen by
//!   power of two choices over peak-EWMA latency ([`PeakEwma`]) and the
//!   request is sent over that endpoint's connection pool, in the version it
//!   came in;
//! - anything else is forwarded as opaque TCP to one endpoint of the
//!   original destination.
//!
//! Connections to endpoints are opened by a [`Connect`], so the same code
//! runs over mTLS (verifying the identity discovery names for each
//! endpoint) and over plain TCP ([`PlainConnect`]).

mod balance;
mod connect;
mod discovery;
mod gateway;
mod http;
mod outbound;
mod tcp;

pub use balance::PeakEwma;
pub use connect::{Connect, EndpointTarget, Hint, PlainConnect};
pub use discovery::{
    DEFAULT_MAX_STREAMS, Discovery, DiscoveryConfig, Resolved, context_token, gateway_context_token,
};
pub use gateway::{GatewayRefusal, GatewayScope};
pub use outbound::{DEFAULT_MAX_BALANCERS, Outbound, OutboundConfig};
