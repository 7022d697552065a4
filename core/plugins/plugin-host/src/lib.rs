//! The plugin host: runs strait's export and authz plugins, WebAssembly
//! components of the worlds in `wit/`, behind plain Rust calls.
//!
//! It is the only crate that knows about wasmtime. One [`PluginHost`] holds the
//! engine (pooling allocator, epoch interruption, no component-model
//! concurrency) and the linker; each plugin version is compiled once per digest
//! and pre-instantiated once; instances are reused across calls and thrown away
//! after any failure. A slot ([`AuthzPlugin`], [`ExportPlugin`]) swaps versions atomically: a new version
//! must compile, implement the right world and answer a smoke call before it
//! replaces the old one, and calls in flight finish on the version they began on.
//!
//! Failure policy: an authz call that traps, times out, exceeds its memory cap
//! or cannot run is a deny; a failed export call keeps the caller's previous
//! decision for that Service (none: not exported). Every call is counted in the
//! [`PluginMetrics`].

mod authz;
#[allow(unsafe_code)]
mod bindings;
mod config;
mod engine;
mod error;
mod export;
mod host;
mod metrics;
mod output;
mod precompiled;
mod slot;
mod source;
mod state;
mod streams;
mod version;

pub use authz::{AuthzPlugin, AuthzVerdict};
pub use config::HostConfig;
pub use error::PluginError;
pub use export::{ExportPlugin, ExportVerdict, FederatedVerdict};
pub use host::PluginHost;
pub use metrics::PluginMetrics;
pub use source::{PluginBytes, PluginSource};
pub use version::{CallOutcome, PluginKind, VersionInfo};
