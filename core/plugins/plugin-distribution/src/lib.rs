//! `strait.plugin.v1.PluginDistribution`: hands the active authz and export
//! plugins to proxies, so a new plugin reaches every proxy without a
//! restart.
//!
//! Linkerd's proxy API has no service for shipping code, so strait defines
//! its own (documented in `proto/strait/plugin/v1/plugin.proto`). This crate
//! holds both sides of it, the way `linkerd2-proxy-api` holds both sides of
//! Linkerd's APIs: the proxy takes its client from here without pulling in
//! the control plane (no store, no policy index, no kube), and the control
//! plane takes the server. Three parts, joined by one watch channel per
//! plugin kind:
//!
//! - [`PluginOffer`] holds the plugin the server currently offers. Whoever
//!   loads plugins (from a ConfigMap, a file) validates one and offers it;
//!   this crate never runs WebAssembly itself.
//! - [`PluginDistributionService`] streams the offer to each watching proxy.
//! - [`PluginDistributionClient`] is the proxy's side, and
//!   [`VerifiedUpdates`] checks every plugin's digest before handing it on.
//!
//! Only tonic's codegen layer is used, so building needs no protoc and each
//! binary picks its own transport.

mod client;
mod offer;
mod proto;
mod service;

pub use client::{CorruptUpdate, PluginDistributionClient, VerifiedUpdates, verify_update};
pub use offer::{OfferError, OfferedPlugin, PluginOffer};
pub use proto::{PluginUpdate, SERVICE_NAME, WatchPluginRequest};
pub use service::{PluginDistributionServer, PluginDistributionService, PluginUpdateStream};
/// The plugin kinds and the digest are facts the whole mesh shares; they
/// are re-exported here because every message of the protocol carries them.
pub use strait_mesh::plugins::{PluginKind, UnknownKind, plugin_digest, short_digest};

/// The largest gRPC message either side of the service accepts: 16 MiB.
///
/// Plugins are a few hundred KiB to a few MiB, past gRPC's usual 4 MiB
/// default, so both the server and [`PluginDistributionClient`] raise their
/// limits to this. A [`PluginOffer`] refuses a plugin whose update would not
/// fit, so an oversized plugin is reported where it is loaded rather than
/// failing every proxy's stream.
pub const MAX_PLUGIN_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
