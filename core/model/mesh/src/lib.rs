//! The facts every part of the mesh must agree on, each in one place.
//!
//! A proxy is configured by one party and run by another: `strait inject`
//! writes its container into a manifest, `strait multicluster install`
//! renders the gateway's, `strait local` adds one to the pods it runs, and
//! the proxy reads what they wrote. They agree only if they share the same
//! ports ([`ports`]), object and container names ([`names`]) and variable
//! names ([`env`]); the control plane, the proxies and `strait plugin`
//! also agree on the plugin kinds and how a plugin's bytes are named
//! ([`plugins`]). The container they write, and the rule for which pods
//! have one, are built from these in `strait-sidecar`.
//!
//! Every value is Linkerd's wherever Linkerd has one, so a pod injected by
//! Linkerd's injector and one injected here configure a proxy the same way,
//! and Linkerd's tooling finds strait's objects where it expects them.
//!
//! The crate is constants and one digest, with no dependency but sha2, so the proxy reads
//! the very names it is configured with without pulling in Kubernetes
//! types, a client or the control plane.

pub mod env;
pub mod names;
pub mod plugins;
pub mod ports;
