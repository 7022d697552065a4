//! The plugins ConfigMap the control plane follows: written whole by
//! `strait plugin configmap`, or with one plugin pushed into the one a
//! cluster has by `strait plugin push`.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use strait_plugin_config::{
    AUTHZ_PLUGIN_KEY, EXPORT_PLUGIN_KEY, PLUGIN_VERSION_ANNOTATION, PLUGINS_CONFIG_MAP,
    STATUS_ANNOTATION_PREFIX, plugins_config_map,
};
use strait_plugin_host::PluginKind;

use crate::ToolError;

/// The ConfigMap `namespace/name` as YAML, holding the authz and export
/// plugins given (the built-in ones where none is), each validated first,
/// with `version` as the plugins' version annotation when given.
pub fn render(
    authz: Option<&Path>,
    export: Option<&Path>,
    name: &str,
    namespace: &str,
    version: Option<&str>,
) -> Result<String, ToolError> {
    let host = crate::host()?;
    let authz = crate::read(PluginKind::Authz, authz)?;
    host.check(PluginKind::Authz, &authz)?;
    let export = crate::read(PluginKind::Export, export)?;
    host.check(PluginKind::Export, &export)?;
    let config_map = plugins_config_map(
        name,
        namespace,
        &[
            (AUTHZ_PLUGIN_KEY, &authz.bytes),
            (EXPORT_PLUGIN_KEY, &export.bytes),
        ],
        version,
    );
    serde_norway::to_string(&config_map).map_err(ToolError::Render)
}

/// The ConfigMap with `key` set to `bytes`: what was there is kept, except
/// status annotations (the control plane reports in its own status
/// ConfigMap; any still here were written onto the plugins ConfigMap by an
/// earlier release and describe an old plugin, so the push does not claim
/// them) and the version, which becomes `version` or goes away. Without a
/// current one, a new `strait-plugins` in `namespace`.
pub fn merge(
    current: Option<ConfigMap>,
    namespace: &str,
    key: &str,
    bytes: &[u8],
    version: Option<&str>,
) -> ConfigMap {
    let mut config_map =
        current.unwrap_or_else(|| plugins_config_map(PLUGINS_CONFIG_MAP, namespace, &[], None));
    let metadata = &mut config_map.metadata;
    metadata.managed_fields = None;
    metadata.resource_version = None;
    let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.retain(|name, _| !name.starts_with(STATUS_ANNOTATION_PREFIX));
    match version {
        Some(version) => {
            annotations.insert(PLUGIN_VERSION_ANNOTATION.to_string(), version.to_string());
        }
        None => {
            annotations.remove(PLUGIN_VERSION_ANNOTATION);
        }
    }
    config_map
        .binary_data
        .get_or_insert_with(BTreeMap::new)
        .insert(key.to_string(), ByteString(bytes.to_vec()));
    if let Some(data) = config_map.data.as_mut() {
        data.remove(key);
    }
    config_map
}

/// The object with its `apiVersion` and `kind`, as an apply endpoint reads
/// documents.
pub fn with_type(config_map: &ConfigMap) -> serde_json::Value {
    let mut value = serde_json::to_value(config_map).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("apiVersion".into(), "v1".into());
        object.insert("kind".into(), "ConfigMap".into());
    }
    value
}

#[cfg(test)]
mod tests;
