//! `strait.plugin.v1.PluginDistribution`: hands the active authz and export
//! plugins to proxies, so a new plugin reaches every proxy without a
//! restart.
//!
//! Linkerd's proxy API has no service for shipping code, so strait defines
//! its own (documented in `proto/strait/plugin/v1/plugin.proto`). Three
//! parts, joined by one watch channel per plugin kind:
//!
//! - [`PluginOffer`] holds the plugin the server currently offers. Whoever
//!   loads plugins (from a ConfigMap, a file) validates one and offers it;
//!   this crate never runs WebAssembly itself.
//! - [`PluginDistributionService`] streams the offer to each watching proxy.
//! - [`PluginDistributionClient`] is the proxy's side, and
//!   [`VerifiedUpdates`] checks every plugin's digest before handing it on.

mod client;
mod offer;
mod proto;
mod service;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

pub use client::{CorruptUpdate, PluginDistributionClient, VerifiedUpdates, verify_update};
pub use offer::{OfferError, OfferedPlugin, PluginOffer};
pub use proto::{PluginUpdate, SERVICE_NAME, WatchPluginRequest};
pub use service::{PluginDistributionServer, PluginDistributionService, PluginUpdateStream};

/// The largest gRPC message either side of the service accepts: 16 MiB.
///
/// Plugins are a few hundred KiB to a few MiB, past gRPC's usual 4 MiB
/// default, so both the server and [`PluginDistributionClient`] raise their
/// limits to this. A [`PluginOffer`] refuses a plugin whose update would not
/// fit, so an oversized plugin is reported where it is loaded rather than
/// failing every proxy's stream.
pub const MAX_PLUGIN_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// How many hex digits of the digest stand in for a version label the
/// operator did not give: enough to tell plugins apart in logs.
const SHORT_DIGEST_LEN: usize = 12;

/// Which plugin a proxy runs: each kind is offered and watched on its own,
/// so replacing the exporter never disturbs the authorization decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// The authorization decision, run on every inbound request.
    Authz,
    /// The decision exporter, which turns decisions into records.
    Export,
}

impl PluginKind {
    /// Every kind, for code that serves or watches them all.
    pub const ALL: [PluginKind; 2] = [PluginKind::Authz, PluginKind::Export];

    /// The name used on the wire (`"authz"`, `"export"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Authz => "authz",
            PluginKind::Export => "export",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is not one of [`PluginKind::ALL`], kept so the refusal
/// can say what was asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown plugin kind {0:?}, expected \"authz\" or \"export\"")]
pub struct UnknownKind(pub String);

impl FromStr for PluginKind {
    type Err = UnknownKind;

    /// Reads a wire name exactly: a proxy asking for `"Authz"` is
    /// misconfigured, and is told so rather than guessed at.
    fn from_str(name: &str) -> Result<PluginKind, UnknownKind> {
        PluginKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownKind(name.to_string()))
    }
}

/// The lowercase hex sha256 of a plugin, as [`PluginUpdate::digest`]
/// carries it: what proxies compare to know whether they already run it.
pub fn plugin_digest(wasm: &[u8]) -> String {
    let hash = Sha256::digest(wasm);
    let mut hex = String::with_capacity(hash.len() * 2);
    for byte in hash {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests;
