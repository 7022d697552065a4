//! The two policy decisions strait delegates to plugins, as plain data.
//!
//! Both the plugin host (which lowers these values into a Wasm component) and
//! the default plugins (which lift them back and call the functions here) use
//! this crate, so Linkerd's semantics are written once. Nothing here depends on
//! wasmtime, kube or tonic, and everything is usable from `wasm32-wasip2`.

pub mod authz;
#[cfg(feature = "reference-cases")]
pub mod cases;
pub mod export;
pub mod identity;
pub mod net;
pub mod selector;
