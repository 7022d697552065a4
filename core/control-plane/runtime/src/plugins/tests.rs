use std::time::Duration;

use strait_default_plugins::fixtures::with_custom_section;
use strait_plugin_config::{AUTHZ_PLUGIN_KEY, EXPORT_PLUGIN_KEY, plugins_config_map};
use strait_plugin_distribution::plugin_digest;
use strait_plugin_host::{HostConfig, PluginKind as HostKind, PluginMetrics, VersionInfo};
use strait_store::MemoryStore;

use super::*;

const ORIGIN: &str = "ConfigMap linkerd/strait-plugins key authz.wasm";

fn host() -> PluginHost {
    PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("plugin host")
}

fn info(label: &str) -> VersionInfo {
    VersionInfo {
        plugin: "authz".into(),
        kind: HostKind::Authz,
        digest: String::new(),
        label: label.into(),
        origin: ORIGIN.into(),
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strait-runtime-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn a_validated_plugin_is_offered_with_its_version_and_origin() {
    let offer = PluginOffer::new();
    let sink = offer_authz_plugins(&offer);
    let plugin = PluginBytes {
        origin: ORIGIN.into(),
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
        origin: ORIGIN.into(),
        bytes: Vec::new(),
        version: None,
    };
    let error = sink(&empty, &info("x")).unwrap_err().to_string();
    assert!(error.contains("authz.wasm"), "{error}");
    assert!(offer.current(PluginKind::Authz).is_none());
}

#[test]
fn the_built_in_authz_plugin_is_offered_after_it_loads() {
    let offer = PluginOffer::new();
    offer_authz_plugin(&host(), &offer, builtin_authz()).expect("offered");
    let current = offer.current(PluginKind::Authz).expect("offered");
    assert_eq!(
        current.digest,
        plugin_digest(strait_default_plugins::AUTHZ_DEFAULT)
    );
    assert_eq!(&current.wasm[..], strait_default_plugins::AUTHZ_DEFAULT);
}

#[test]
fn a_plugin_that_does_not_load_is_not_offered() {
    let dir = temp_dir("plugin");
    let garbage = dir.join("garbage.wasm");
    std::fs::write(&garbage, b"not a component").expect("written");
    // The export plugin is a valid component of the wrong world.
    let wrong_world = dir.join("export.wasm");
    std::fs::write(&wrong_world, strait_default_plugins::EXPORT_DEFAULT).expect("written");
    let host = host();
    for (file, expected) in [(&garbage, "garbage.wasm"), (&wrong_world, "export.wasm")] {
        let offer = PluginOffer::new();
        let err = offer_authz_plugin(&host, &offer, PluginSource::File(file))
            .expect_err("refused")
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert!(offer.current(PluginKind::Authz).is_none());
    }
}

#[test]
fn an_export_plugin_loaded_through_the_sink_replaces_the_slots() {
    let host = host();
    let slot = export_slot(&host, &builtin_export().read().expect("read")).expect("loads");
    assert_eq!(slot.active().origin, "the built-in export plugin");
    let sink = load_export_plugins(&slot);
    let newer = PluginBytes {
        origin: "ConfigMap linkerd/strait-plugins key export.wasm".into(),
        bytes: with_custom_section(strait_default_plugins::EXPORT_DEFAULT, "v", b"2"),
        version: Some("2.0.0".into()),
    };
    sink(&newer, &info("2.0.0")).expect("loaded");
    assert_eq!(slot.active().label, "2.0.0");
    // An authz plugin is no export plugin: refused, the slot unchanged.
    let wrong = PluginBytes {
        origin: "the authz plugin".into(),
        bytes: strait_default_plugins::AUTHZ_DEFAULT.to_vec(),
        version: Some("3.0.0".into()),
    };
    let error = sink(&wrong, &info("3.0.0")).unwrap_err().to_string();
    assert!(error.contains("the authz plugin"), "{error}");
    assert_eq!(slot.active().label, "2.0.0");
}

#[tokio::test]
async fn no_config_map_named_is_none_followed() {
    let none = PluginsConfigMap::new("linkerd", "");
    assert!(
        none.follow(MemoryStore::new(), &host(), PluginSinks::default())
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follower_hands_each_kind_to_its_sink() {
    let store = MemoryStore::new();
    store
        .apply_json(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "linkerd"}}),
            "test",
        )
        .expect("namespace");
    let host = host();
    let offer = PluginOffer::new();
    let slot = export_slot(&host, &builtin_export().read().expect("read")).expect("loads");
    let follower = PluginsConfigMap::new("linkerd", "strait-plugins")
        .follow(
            store.clone(),
            &host,
            PluginSinks {
                authz: Some(offer_authz_plugins(&offer)),
                export: Some(load_export_plugins(&slot)),
            },
        )
        .expect("following");
    let export = with_custom_section(strait_default_plugins::EXPORT_DEFAULT, "v", b"2");
    store
        .apply(
            &plugins_config_map(
                "strait-plugins",
                "linkerd",
                &[
                    (AUTHZ_PLUGIN_KEY, strait_default_plugins::AUTHZ_DEFAULT),
                    (EXPORT_PLUGIN_KEY, &export),
                ],
                Some("2.0.0"),
            ),
            "test",
        )
        .await
        .expect("applied");
    for _ in 0..500 {
        let offered = offer
            .current(PluginKind::Authz)
            .is_some_and(|p| p.version == "2.0.0");
        if offered && slot.active().label == "2.0.0" {
            follower.abort();
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "not both taken: offered {:?}, export {}",
        offer.current(PluginKind::Authz).map(|p| p.version.clone()),
        slot.active().label
    );
}
