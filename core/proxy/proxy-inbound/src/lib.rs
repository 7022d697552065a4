//! The proxy's inbound side after TLS.
//!
//! Connections arrive already accepted, with the client's transport
//! security decided (by the TLS layer). For each one, this crate finds the
//! inbound policy of the destination port ([`PolicyWatcher`], fed by the
//! control plane's `InboundServerPolicies` API), authorizes the traffic with
//! the authz plugin — per request for HTTP, per connection (and again on
//! every policy change) for opaque TCP — and forwards what is admitted to
//! the application, recording Linkerd's traffic metrics on the way.
//!
//! Everything fails closed: no policy in time, a plugin that fails, or a
//! policy that no longer admits a live TCP connection all refuse traffic.

mod inbound;
mod policy;

pub use inbound::{ClientInfo, Forward, Inbound, InboundConfig, LocalHttp, sidecar_ports};
pub use policy::{
    DEFAULT_MAX_PORTS, HeaderMatch, HeaderValueMatch, HostMatch, PathMatch, PolicyError,
    PolicyWatcher, PortPolicy, QueryParamMatch, Route, RouteMatch, WatcherConfig, port_policy,
};
