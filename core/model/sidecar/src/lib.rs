//! The proxy container of a meshed pod, and which pods are meshed.
//!
//! `strait inject` writes the container into a manifest, `strait
//! multicluster install` renders the gateway's, and `strait local` adds one
//! to the pods it runs: all three call [`ProxyContainer`], so a proxy is
//! configured the same way wherever it runs, with the ports, names and
//! variables of `strait-mesh` that the proxy itself reads.
//!
//! A pod is meshed when it has the proxy container ([`is_meshed`]), as
//! Linkerd decides: `linkerd.io/inject` only asks an injector for one.

mod meshed;
mod proxy;

pub use meshed::{has_proxy_container, is_meshed, is_meshed_spec};
pub use proxy::{
    ControlPlaneAddrs, ProxyContainer, TrustAnchors, identity_token_volume, proxy_version,
};
