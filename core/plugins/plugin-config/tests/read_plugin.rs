//! A plugin read out of the plugins ConfigMap loads into the plugin host
//! under the version the ConfigMap's annotation gives, and says where it
//! came from.

use std::path::Path;

use strait_decisions::authz::CandidateSet;
use strait_decisions::cases::{SLOW_COOKER, request};
use strait_plugin_config::{AUTHZ_PLUGIN_KEY, plugins_config_map, read_plugin};
use strait_plugin_host::{
    AuthzPlugin, HostConfig, PluginBytes, PluginHost, PluginMetrics, PluginSource,
};

#[test]
fn a_version_loads_from_a_config_map_with_its_version_label() {
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("host");
    let built_in = PluginBytes {
        origin: "built-in authz".to_string(),
        bytes: strait_default_plugins::AUTHZ_DEFAULT.to_vec(),
        version: None,
    };
    let plugin = AuthzPlugin::new(&host, "authz", &built_in).expect("default authz plugin loads");
    let faulty = PluginSource::File(Path::new(strait_default_plugins::fixtures::AUTHZ_FAULTY))
        .read()
        .expect("fixture plugin readable");
    let config_map = plugins_config_map(
        "strait-plugins",
        "linkerd",
        &[(AUTHZ_PLUGIN_KEY, &faulty.bytes)],
        Some("v7"),
    );
    let bytes = read_plugin(&config_map, AUTHZ_PLUGIN_KEY).unwrap();
    let info = plugin.load(&bytes).expect("the ConfigMap's plugin loads");
    assert_eq!(info.label, "v7");
    assert_eq!(
        info.origin,
        "ConfigMap linkerd/strait-plugins key authz.wasm"
    );
    assert_eq!(plugin.active(), info);
    let req = request(
        strait_decisions::authz::ClientTls::Mtls(SLOW_COOKER.into()),
        "10.0.0.1",
    );
    let verdict = plugin.authorize(req, &CandidateSet::new(Vec::new()));
    assert_eq!(verdict.version.label, "v7");
    assert!(verdict.decision.is_allow(), "the faulty plugin allows `/`");
}
