//! The plugins ConfigMap's layout: its name, keys and version annotation,
//! building one and reading a plugin out of one. The command line that
//! writes it (`strait plugin push`, `strait plugin configmap`), the
//! controller that follows it and the drills share this, so they cannot
//! drift apart.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_plugin_host::{PluginBytes, PluginError, PluginKind};

/// The ConfigMap the control plane watches for plugins; its name is one of
/// the mesh's names, which `strait install` grants the controllers read
/// access to (and only read: the operator writes it).
pub use strait_mesh::names::PLUGINS_CONFIG_MAP;
/// The ConfigMap where the control plane reports each plugin's status,
/// one annotation per key; the only ConfigMap its followers may write.
pub use strait_mesh::names::PLUGINS_STATUS_CONFIG_MAP;
/// Its `binaryData` key holding the authz plugin.
pub const AUTHZ_PLUGIN_KEY: &str = "authz.wasm";
/// Its `binaryData` key holding the export plugin.
pub const EXPORT_PLUGIN_KEY: &str = "export.wasm";
/// Its annotation naming the plugins' version (the `version` metric label).
pub const PLUGIN_VERSION_ANNOTATION: &str = "strait.io/plugin-version";

/// The key holding the plugin of `kind`.
pub fn plugin_key(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Authz => AUTHZ_PLUGIN_KEY,
        PluginKind::Export => EXPORT_PLUGIN_KEY,
    }
}

/// Builds the plugins ConfigMap: each given plugin under its key in
/// `binaryData`, and the version annotation when a version is given.
pub fn plugins_config_map(
    name: &str,
    namespace: &str,
    plugins: &[(&str, &[u8])],
    version: Option<&str>,
) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/part-of".to_string(),
                "strait".to_string(),
            )])),
            annotations: version
                .map(|v| BTreeMap::from([(PLUGIN_VERSION_ANNOTATION.to_string(), v.to_string())])),
            ..Default::default()
        },
        binary_data: Some(
            plugins
                .iter()
                .map(|(key, bytes)| (key.to_string(), ByteString(bytes.to_vec())))
                .collect(),
        ),
        ..Default::default()
    }
}

/// Whether `key` holds anything, in `binaryData` or `data`: a key nobody
/// filled is no plugin to validate, not a broken one.
pub(crate) fn holds_plugin(config_map: &ConfigMap, key: &str) -> bool {
    config_map
        .binary_data
        .as_ref()
        .is_some_and(|d| d.contains_key(key))
        || config_map
            .data
            .as_ref()
            .is_some_and(|d| d.contains_key(key))
}

/// Reads the plugin under `key`: `binaryData` (a component), else `data`
/// (WAT text), labelled with the [`PLUGIN_VERSION_ANNOTATION`] when it is
/// set and not empty. A missing key is an error naming the ConfigMap and
/// the keys it has, so a typo in a push is plain to see.
pub fn read_plugin(config_map: &ConfigMap, key: &str) -> Result<PluginBytes, PluginError> {
    let meta = &config_map.metadata;
    let origin = format!(
        "ConfigMap {}/{} key {key}",
        meta.namespace.as_deref().unwrap_or("default"),
        meta.name.as_deref().unwrap_or("<unnamed>")
    );
    let version = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(PLUGIN_VERSION_ANNOTATION))
        .filter(|v| !v.is_empty())
        .cloned();
    if let Some(bytes) = config_map.binary_data.as_ref().and_then(|d| d.get(key)) {
        return Ok(PluginBytes {
            origin,
            bytes: bytes.0.clone(),
            version,
        });
    }
    if let Some(text) = config_map.data.as_ref().and_then(|d| d.get(key)) {
        return Ok(PluginBytes {
            origin,
            bytes: text.as_bytes().to_vec(),
            version,
        });
    }
    let mut keys: Vec<&str> = config_map
        .binary_data
        .iter()
        .flat_map(|d| d.keys())
        .chain(config_map.data.iter().flat_map(|d| d.keys()))
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let present = if keys.is_empty() {
        "it has no keys".to_string()
    } else {
        format!("its keys are {}", keys.join(", "))
    };
    Err(PluginError::Read {
        origin,
        reason: format!("no such key in binaryData or data; {present}"),
    })
}

#[cfg(test)]
mod tests;
