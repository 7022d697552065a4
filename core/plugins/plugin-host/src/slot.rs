//! Atomic version swaps of one plugin.

use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::error::PluginError;
use crate::host::PluginHost;
use crate::source::PluginBytes;
use crate::version::{Kind, PluginVersion, VersionInfo};

/// One named plugin (e.g. the proxy's `authz`) and the version serving it.
///
/// A new version replaces the current one only after it compiles, implements
/// the world and answers a smoke call; calls already running finish on the
/// version they started with, and a rejected version leaves the last good one
/// serving, with the reason kept for status reporting.
pub(crate) struct PluginSlot<K: Kind> {
    host: PluginHost,
    name: String,
    current: ArcSwap<PluginVersion<K>>,
    /// Serializes loads so the active-version metric and the rejection follow
    /// the order in which versions were activated.
    loading: Mutex<Option<String>>,
}

impl<K: Kind> PluginSlot<K> {
    pub(crate) fn new(
        host: &PluginHost,
        name: &str,
        initial: &PluginBytes,
        smoke: fn(&PluginVersion<K>, &str) -> Result<(), PluginError>,
    ) -> Result<Self, PluginError> {
        let version = validated(host, name, initial, smoke)?;
        host.metrics().set_active(name, &version.info.label, None);
        host.metrics().reload(name, true);
        log_active(&version.info);
        Ok(PluginSlot {
            host: host.clone(),
            name: name.to_string(),
            current: ArcSwap::from_pointee(version),
            loading: Mutex::new(None),
        })
    }

    pub(crate) fn load(
        &self,
        plugin: &PluginBytes,
        smoke: fn(&PluginVersion<K>, &str) -> Result<(), PluginError>,
    ) -> Result<Arc<VersionInfo>, PluginError> {
        let mut rejection = self.loading.lock();
        match validated(&self.host, &self.name, plugin, smoke) {
            Ok(version) => {
                let info = version.info.clone();
                let old = self.current.swap(Arc::new(version));
                self.host
                    .metrics()
                    .set_active(&self.name, &info.label, Some(&old.info.label));
                self.host.metrics().reload(&self.name, true);
                *rejection = None;
                log_active(&info);
                Ok(info)
            }
            Err(err) => {
                self.host.metrics().reload(&self.name, false);
                tracing::warn!(
                    plugin = %self.name,
                    active = %self.current.load().info.label,
                    "plugin version rejected, the active version keeps serving: {err}"
                );
                *rejection = Some(err.to_string());
                Err(err)
            }
        }
    }

    pub(crate) fn active(&self) -> Arc<VersionInfo> {
        self.current.load().info.clone()
    }

    pub(crate) fn last_rejection(&self) -> Option<String> {
        self.loading.lock().clone()
    }

    /// The version a call must use from start to end.
    pub(crate) fn current(&self) -> arc_swap::Guard<Arc<PluginVersion<K>>> {
        self.current.load()
    }
}

fn validated<K: Kind>(
    host: &PluginHost,
    name: &str,
    plugin: &PluginBytes,
    smoke: fn(&PluginVersion<K>, &str) -> Result<(), PluginError>,
) -> Result<PluginVersion<K>, PluginError> {
    let version = host.prepare::<K>(name, plugin)?;
    smoke(&version, &plugin.origin)?;
    Ok(version)
}

fn log_active(info: &VersionInfo) {
    tracing::info!(
        plugin = %info.plugin,
        version = %info.label,
        digest = %info.digest,
        origin = %info.origin,
        "plugin version active"
    );
}
