//! Plugins from the plugins ConfigMap into the policy service's offer.

use bytes::Bytes;
use strait_plugin_config::PluginSink;
use strait_policy_server::{OfferedPlugin, PluginKind, PluginOffer};

/// A sink for `strait_plugin_config::follow_plugin_config_map` that offers
/// each validated authz plugin to every proxy through `offer` (the policy
/// service's plugin watch). A plugin given as WAT text goes out as its
/// binary component, which is what proxies load.
pub fn offer_authz_plugins(offer: &PluginOffer) -> PluginSink {
    let offer = offer.clone();
    std::sync::Arc::new(move |plugin, info| {
        let wasm = plugin
            .component_binary()
            .map_err(|error| error.to_string())?
            .into_owned();
        offer
            .offer(OfferedPlugin {
                kind: PluginKind::Authz,
                version: info.label.clone(),
                origin: plugin.origin.clone(),
                wasm: Bytes::from(wasm),
            })
            .map(drop)
            .map_err(|error| error.to_string())
    })
}

#[cfg(test)]
mod tests;
