//! Shared setup of the plugin host's end-to-end tests.
#![allow(dead_code)]

use std::path::Path;

use strait_plugin_host::{
    AuthzPlugin, ExportPlugin, HostConfig, PluginBytes, PluginHost, PluginMetrics, PluginSource,
};

pub fn host() -> PluginHost {
    PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("plugin host starts")
}

pub fn file(path: &str) -> PluginBytes {
    PluginSource::File(Path::new(path))
        .read()
        .expect("fixture plugin readable")
}

pub fn bytes(name: &str, bytes: &[u8]) -> PluginBytes {
    PluginBytes {
        origin: name.to_string(),
        bytes: bytes.to_vec(),
        version: None,
    }
}

pub fn default_authz(host: &PluginHost) -> AuthzPlugin {
    AuthzPlugin::new(
        host,
        "authz",
        &bytes("built-in authz", strait_default_plugins::AUTHZ_DEFAULT),
    )
    .expect("default authz plugin loads")
}

pub fn default_export(host: &PluginHost) -> ExportPlugin {
    ExportPlugin::new(
        host,
        "export",
        &bytes("built-in export", strait_default_plugins::EXPORT_DEFAULT),
    )
    .expect("default export plugin loads")
}

pub fn faulty_authz(host: &PluginHost) -> AuthzPlugin {
    AuthzPlugin::new(
        host,
        "authz",
        &file(strait_default_plugins::fixtures::AUTHZ_FAULTY),
    )
    .expect("faulty authz plugin passes its smoke call")
}

pub fn set(
    candidates: &[strait_decisions::authz::Authorization],
) -> strait_decisions::authz::CandidateSet {
    strait_decisions::authz::CandidateSet::new(candidates.to_vec())
}
