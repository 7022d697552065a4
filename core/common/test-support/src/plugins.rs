//! The plugin host with strait's built-in plugins, as the controllers and
//! proxies run them: for tests of code that takes a plugin.

use std::sync::Arc;

use strait_plugin_host::{
    AuthzPlugin, ExportPlugin, HostConfig, PluginBytes, PluginHost, PluginMetrics,
};

/// A plugin host with the default limits and metrics of its own.
pub fn host() -> PluginHost {
    match PluginHost::new(HostConfig::default(), PluginMetrics::new()) {
        Ok(host) => host,
        Err(e) => panic!("the plugin host does not start: {e}"),
    }
}

/// `bytes` as a plugin from `origin`, with no version.
pub fn bytes(origin: &str, bytes: &[u8]) -> PluginBytes {
    PluginBytes {
        origin: origin.to_string(),
        bytes: bytes.to_vec(),
        version: None,
    }
}

/// The built-in authz plugin's bytes, with `version` when given (the
/// version a plugin distribution would label it with).
pub fn builtin_authz_bytes(version: Option<&str>) -> PluginBytes {
    PluginBytes {
        version: version.map(str::to_string),
        ..bytes("built-in authz", strait_default_plugins::AUTHZ_DEFAULT)
    }
}

/// The built-in authz plugin loaded on `host`.
pub fn builtin_authz(host: &PluginHost) -> Arc<AuthzPlugin> {
    match AuthzPlugin::new(host, "authz", &builtin_authz_bytes(None)) {
        Ok(plugin) => Arc::new(plugin),
        Err(e) => panic!("the built-in authz plugin does not load: {e}"),
    }
}

/// The built-in export plugin loaded on `host`.
pub fn builtin_export(host: &PluginHost) -> Arc<ExportPlugin> {
    let export = bytes("built-in export", strait_default_plugins::EXPORT_DEFAULT);
    match ExportPlugin::new(host, "export", &export) {
        Ok(plugin) => Arc::new(plugin),
        Err(e) => panic!("the built-in export plugin does not load: {e}"),
    }
}

#[cfg(test)]
mod tests;
