//! The plugins the server offers, one watch channel per kind.

use bytes::Bytes;
use prost::Message;
use tokio::sync::watch;

use crate::{MAX_PLUGIN_MESSAGE_BYTES, PluginKind, PluginUpdate, plugin_digest, short_digest};

/// A plugin someone has loaded and validated, ready to be offered to
/// proxies; the digest is computed by [`PluginOffer::offer`], so it always
/// matches the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferedPlugin {
    /// Which plugin this replaces.
    pub kind: PluginKind,
    /// The operator's label (e.g. the `strait.io/plugin-version`
    /// annotation); empty means "none", and the short digest is used.
    pub version: String,
    /// Where it came from, e.g. `configmap linkerd/strait-plugins`, so a
    /// proxy's logs say which source to look at.
    pub origin: String,
    /// The WebAssembly component. Cheap to clone, so every stream shares
    /// one copy.
    pub wasm: Bytes,
}

/// Why a plugin was not offered. The plugin currently offered, if any,
/// stays in place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfferError {
    /// The update carrying the plugin would exceed [`MAX_PLUGIN_MESSAGE_BYTES`],
    /// so no proxy could receive it.
    #[error(
        "{kind} plugin from {origin} is {size} bytes; with its labels that is \
         {encoded} bytes on the wire, over the {limit}-byte limit of the plugin service"
    )]
    TooLarge {
        /// The plugin's kind.
        kind: PluginKind,
        /// Where it came from.
        origin: String,
        /// Its size in bytes.
        size: usize,
        /// The size of the update that would carry it.
        encoded: usize,
        /// [`MAX_PLUGIN_MESSAGE_BYTES`].
        limit: usize,
    },
    /// The plugin has no bytes: a mistake in whatever loaded it (an empty
    /// ConfigMap key), never a plugin a proxy could run.
    #[error("{kind} plugin from {origin} is empty")]
    Empty {
        /// The plugin's kind.
        kind: PluginKind,
        /// Where it came from.
        origin: String,
    },
}

/// The plugins the server currently offers, one per kind.
///
/// Clones share the same channels. Streams opened by a
/// [`crate::PluginDistributionService`] end once every clone is dropped, so
/// dropping the offer is how the server stops distributing plugins.
#[derive(Clone, Debug)]
pub struct PluginOffer {
    authz: watch::Sender<Option<PluginUpdate>>,
    export: watch::Sender<Option<PluginUpdate>>,
}

impl Default for PluginOffer {
    fn default() -> Self {
        PluginOffer::new()
    }
}

impl PluginOffer {
    /// An offer with no plugin of any kind yet: watchers wait for the first.
    pub fn new() -> Self {
        PluginOffer {
            authz: watch::Sender::new(None),
            export: watch::Sender::new(None),
        }
    }

    /// Offers `plugin` in place of the current plugin of its kind, waking
    /// every watcher. Returns whether anything changed: an offer identical
    /// to the current one (same bytes, version and origin) is ignored, so a
    /// loader that re-reads an unchanged source sends nothing to proxies.
    ///
    /// The caller must have validated the plugin; this only refuses one
    /// that could not be delivered (empty, or too large for
    /// [`MAX_PLUGIN_MESSAGE_BYTES`]).
    pub fn offer(&self, plugin: OfferedPlugin) -> Result<bool, OfferError> {
        let OfferedPlugin {
            kind,
            version,
            origin,
            wasm,
        } = plugin;
        if wasm.is_empty() {
            return Err(OfferError::Empty { kind, origin });
        }
        let digest = plugin_digest(&wasm);
        let version = if version.is_empty() {
            short_digest(&digest).to_string()
        } else {
            version
        };
        let update = PluginUpdate {
            kind: kind.as_str().to_string(),
            version,
            digest,
            wasm,
            origin,
        };
        let encoded = update.encoded_len();
        if encoded > MAX_PLUGIN_MESSAGE_BYTES {
            return Err(OfferError::TooLarge {
                kind,
                origin: update.origin,
                size: update.wasm.len(),
                encoded,
                limit: MAX_PLUGIN_MESSAGE_BYTES,
            });
        }
        let changed = self.sender(kind).send_if_modified(|current| {
            if current.as_ref().is_some_and(|c| same_plugin(c, &update)) {
                return false;
            }
            tracing::info!(
                %kind,
                version = %update.version,
                digest = %update.digest,
                origin = %update.origin,
                bytes = update.wasm.len(),
                "offering plugin",
            );
            *current = Some(update);
            true
        });
        Ok(changed)
    }

    /// The plugin of `kind` offered now, if any.
    pub fn current(&self, kind: PluginKind) -> Option<PluginUpdate> {
        self.sender(kind).borrow().clone()
    }

    /// How many receivers the channel of `kind` has: one per service built
    /// from this offer, plus one per open watch. For metrics, and to check
    /// that a closed watch let go of its channel.
    pub fn receiver_count(&self, kind: PluginKind) -> usize {
        self.sender(kind).receiver_count()
    }

    /// A receiver of the channel of `kind`, for the service.
    pub(crate) fn subscribe(&self, kind: PluginKind) -> watch::Receiver<Option<PluginUpdate>> {
        self.sender(kind).subscribe()
    }

    fn sender(&self, kind: PluginKind) -> &watch::Sender<Option<PluginUpdate>> {
        match kind {
            PluginKind::Authz => &self.authz,
            PluginKind::Export => &self.export,
        }
    }
}

/// Whether two updates carry the same plugin under the same labels; equal
/// digests mean equal bytes, so the bytes themselves are not compared.
fn same_plugin(a: &PluginUpdate, b: &PluginUpdate) -> bool {
    a.digest == b.digest && a.version == b.version && a.origin == b.origin && a.kind == b.kind
}

#[cfg(test)]
mod tests;
