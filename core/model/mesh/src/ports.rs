//! The proxy's ports and the addresses a sidecar listens on.
//!
//! They are Linkerd's, because the init container's iptables rules, the
//! kubelet's probes, Prometheus' scrape configuration and the gateway's
//! Service all name them without asking the proxy: a proxy listening
//! anywhere else would be reachable by none of them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Where iptables redirects the pod's inbound connections; also the port a
/// multicluster gateway serves linked clusters on.
pub const INBOUND_PORT: u16 = 4143;
/// Where iptables redirects the pod's own outbound connections.
pub const OUTBOUND_PORT: u16 = 4140;
/// Where the proxy serves `/metrics`, `/ready` and `/live`: the kubelet's
/// probes and Prometheus reach it directly, so iptables leaves it alone.
pub const ADMIN_PORT: u16 = 4191;
/// Linkerd's proxy control port, which iptables leaves alone like the
/// admin port so that a pod's port numbering is the same under both meshes.
pub const CONTROL_PORT: u16 = 4190;

/// The name of [`INBOUND_PORT`] on the proxy container, Linkerd's.
pub const INBOUND_PORT_NAME: &str = "linkerd-proxy";
/// The name of [`ADMIN_PORT`] on the proxy container, Linkerd's.
pub const ADMIN_PORT_NAME: &str = "linkerd-admin";

/// A sidecar's inbound listener: every address of the pod, since the
/// redirected connections keep the pod's address as their destination.
pub const INBOUND_ADDR: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), INBOUND_PORT);
/// A sidecar's outbound listener: loopback only, since only the pod's own
/// containers may send through it.
pub const OUTBOUND_ADDR: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), OUTBOUND_PORT);
/// A sidecar's admin listener: every address of the pod, for the kubelet
/// and Prometheus.
pub const ADMIN_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), ADMIN_PORT);

#[cfg(test)]
mod tests;
