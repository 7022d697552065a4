//! The plugins a controller decides with and offers, and the followers
//! that keep them current from the plugins ConfigMap.
//!
//! The policy service offers an authz plugin to proxies and the service
//! mirrors decide with an export plugin; both start from the built-in
//! ones (or, for authz, a file the operator names) and take whatever good
//! plugin the plugins ConfigMap holds next. On Kubernetes each controller
//! follows the key of its kind; an embedded cluster follows both keys
//! with one follower.

use std::sync::Arc;

use bytes::Bytes;
use strait_plugin_config::{
    PLUGINS_STATUS_CONFIG_MAP, PluginSink, PluginSinks, SinkError, follow_plugin_config_map,
};
use strait_plugin_distribution::{OfferedPlugin, PluginKind, PluginOffer};
use strait_plugin_host::{AuthzPlugin, ExportPlugin, PluginBytes, PluginHost, PluginSource};
use strait_store::ClusterStore;
use tokio::task::JoinHandle;

use crate::RuntimeError;

/// The plugin name authz plugins run under in the host (the `plugin`
/// label of its metrics).
const AUTHZ: &str = "authz";

/// The plugin name export plugins run under in the host.
const EXPORT: &str = "export";

/// The authz plugin built into strait: Linkerd's semantics.
pub fn builtin_authz() -> PluginSource<'static> {
    PluginSource::Bytes {
        name: "the built-in authz plugin",
        bytes: strait_default_plugins::AUTHZ_DEFAULT,
    }
}

/// The export plugin built into strait: Linkerd's export selectors.
pub fn builtin_export() -> PluginSource<'static> {
    PluginSource::Bytes {
        name: "the built-in export plugin",
        bytes: strait_default_plugins::EXPORT_DEFAULT,
    }
}

/// The export plugin a cluster's service mirrors decide with, on `host`,
/// starting with `plugin`: one slot the mirrors share, so a new plugin
/// loaded into it reaches all of them.
pub fn export_slot(
    host: &PluginHost,
    plugin: &PluginBytes,
) -> Result<Arc<ExportPlugin>, RuntimeError> {
    Ok(Arc::new(ExportPlugin::new(host, EXPORT, plugin)?))
}

/// Reads `source`, proves it loads and answers in `host` as a proxy would
/// run it, and offers it to proxies through `offer`. A plugin that fails
/// is an error naming it, and nothing is offered.
pub fn offer_authz_plugin(
    host: &PluginHost,
    offer: &PluginOffer,
    source: PluginSource<'_>,
) -> Result<(), RuntimeError> {
    let plugin = source.read()?;
    AuthzPlugin::new(host, AUTHZ, &plugin)?;
    let wasm = plugin.component_binary()?;
    offer.offer(OfferedPlugin {
        kind: PluginKind::Authz,
        version: plugin.version.clone().unwrap_or_default(),
        origin: plugin.origin.clone(),
        wasm: Bytes::copy_from_slice(&wasm),
    })?;
    tracing::info!(origin = %plugin.origin, "offering the authz plugin to proxies");
    Ok(())
}

/// A sink for the plugins ConfigMap's follower that offers each validated
/// authz plugin to every proxy through `offer` (the policy service's
/// plugin watch). A plugin given as WAT text goes out as its binary
/// component, which is what proxies load.
pub fn offer_authz_plugins(offer: &PluginOffer) -> PluginSink {
    let offer = offer.clone();
    Arc::new(move |plugin, info| {
        let wasm = plugin.component_binary()?.into_owned();
        offer
            .offer(OfferedPlugin {
                kind: PluginKind::Authz,
                version: info.label.clone(),
                origin: plugin.origin.clone(),
                wasm: Bytes::from(wasm),
            })
            .map(drop)
            .map_err(SinkError::from)
    })
}

/// A sink for the plugins ConfigMap's follower that loads each validated
/// export plugin into `slot`, so the service mirrors sharing it re-decide
/// with the new one.
pub fn load_export_plugins(slot: &Arc<ExportPlugin>) -> PluginSink {
    let slot = slot.clone();
    Arc::new(move |plugin, _| slot.load(plugin).map(drop).map_err(SinkError::from))
}

/// The plugins ConfigMap a controller follows for new plugins (hot
/// reload, `strait plugin push`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginsConfigMap {
    /// Its namespace (the control plane's).
    pub namespace: String,
    /// Its name; empty to follow none (`--plugins-config-map=`).
    pub name: String,
}

impl PluginsConfigMap {
    /// ConfigMap `name` in `namespace`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        PluginsConfigMap {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Follows the ConfigMap in `store` in the background, validating each
    /// new plugin on `host` and handing the good ones to `sinks`, and
    /// reporting on the status ConfigMap [`PLUGINS_STATUS_CONFIG_MAP`] in
    /// the same namespace (the one ConfigMap `strait install` lets the
    /// followers write); `None` when no ConfigMap is named. Abort the task
    /// to stop following.
    pub fn follow<S: ClusterStore>(
        &self,
        store: S,
        host: &PluginHost,
        sinks: PluginSinks,
    ) -> Option<JoinHandle<()>> {
        if self.name.is_empty() {
            return None;
        }
        Some(tokio::spawn(follow_plugin_config_map(
            store,
            self.namespace.clone(),
            self.name.clone(),
            PLUGINS_STATUS_CONFIG_MAP.to_string(),
            host.clone(),
            sinks,
        )))
    }
}

#[cfg(test)]
mod tests;
