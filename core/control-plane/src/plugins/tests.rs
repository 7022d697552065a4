use strait_plugin_host::{PluginBytes, PluginKind as HostKind, VersionInfo};
use strait_policy_server::{PluginKind, PluginOffer, plugin_digest};

use super::offer_authz_plugins;

fn info(label: &str) -> VersionInfo {
    VersionInfo {
        plugin: "authz".into(),
        kind: HostKind::Authz,
        digest: String::new(),
        label: label.into(),
        origin: "ConfigMap linkerd/strait-plugins key authz.wasm".into(),
    }
}

#[test]
fn a_validated_plugin_is_offered_with_its_version_and_origin() {
    let offer = PluginOffer::new();
    let sink = offer_authz_plugins(&offer);
    let plugin = PluginBytes {
        origin: "ConfigMap linkerd/strait-plugins key authz.wasm".into(),
        bytes: strait_default_plugins::AUTHZ_DEFAULT.to_vec(),
        version: Some("1.2.0".into()),
    };
    sink(&plugin, &info("1.2.0")).expect("offered");
    let current = offer
        .current(PluginKind::Authz)
        .expect("an authz plugin is offered");
    assert_eq!(current.version, "1.2.0");
    assert_eq!(current.origin, plugin.origin);
    assert_eq!(
        current.digest,
        plugin_digest(strait_default_plugins::AUTHZ_DEFAULT)
    );
    assert!(offer.current(PluginKind::Export).is_none());
}

#[test]
fn a_plugin_the_offer_refuses_is_an_error_naming_it() {
    let offer = PluginOffer::new();
    let sink = offer_authz_plugins(&offer);
    let empty = PluginBytes {
        origin: "ConfigMap linkerd/strait-plugins key authz.wasm".into(),
        bytes: Vec::new(),
        version: None,
    };
    let error = sink(&empty, &info("x")).unwrap_err();
    assert!(error.contains("authz.wasm"), "{error}");
    assert!(offer.current(PluginKind::Authz).is_none());
}
