use std::collections::BTreeMap;

use super::*;

fn config_map() -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some("strait-plugins".into()),
            namespace: Some("linkerd".into()),
            annotations: Some(BTreeMap::from([(
                "strait.io/plugin-version".into(),
                "v7".into(),
            )])),
            ..Default::default()
        },
        binary_data: Some(BTreeMap::from([(
            "authz.wasm".into(),
            ByteString(b"\0asm\x0d\0\x01\0".to_vec()),
        )])),
        data: Some(BTreeMap::from([(
            "export.wat".into(),
            "(component)".into(),
        )])),
        ..Default::default()
    }
}

#[test]
fn reads_binary_data_with_the_version_annotation() {
    let cm = config_map();
    let plugin = read_plugin(&cm, "authz.wasm").unwrap();
    assert_eq!(plugin.bytes, b"\0asm\x0d\0\x01\0");
    assert_eq!(plugin.version.as_deref(), Some("v7"));
    assert_eq!(
        plugin.origin,
        "ConfigMap linkerd/strait-plugins key authz.wasm"
    );
}

#[test]
fn reads_wat_text_from_data() {
    let cm = config_map();
    let plugin = read_plugin(&cm, "export.wat").unwrap();
    assert_eq!(plugin.bytes, b"(component)");
    assert_eq!(plugin.version.as_deref(), Some("v7"));
    assert!(plugin.component_binary().is_ok());
}

#[test]
fn an_empty_version_annotation_is_no_version() {
    let mut cm = config_map();
    cm.metadata.annotations = Some(BTreeMap::from([(
        PLUGIN_VERSION_ANNOTATION.into(),
        String::new(),
    )]));
    assert_eq!(read_plugin(&cm, "authz.wasm").unwrap().version, None);
    cm.metadata.annotations = None;
    assert_eq!(read_plugin(&cm, "authz.wasm").unwrap().version, None);
}

#[test]
fn a_missing_key_lists_the_keys_present() {
    let cm = config_map();
    assert!(!holds_plugin(&cm, "export.wasm"));
    let err = read_plugin(&cm, "export.wasm").unwrap_err().to_string();
    assert!(err.contains("linkerd/strait-plugins"), "{err}");
    assert!(err.contains("export.wasm"), "{err}");
    assert!(err.contains("authz.wasm, export.wat"), "{err}");

    let empty = plugins_config_map("p", "ns", &[], None);
    let err = read_plugin(&empty, "authz.wasm").unwrap_err().to_string();
    assert!(err.contains("it has no keys"), "{err}");
}

#[test]
fn a_key_holds_a_plugin_in_binary_data_or_data() {
    let cm = config_map();
    assert!(holds_plugin(&cm, "authz.wasm"));
    assert!(holds_plugin(&cm, "export.wat"));
    assert!(!holds_plugin(&cm, "authz.wat"));
}

#[test]
fn each_kind_has_its_own_key() {
    assert_eq!(plugin_key(PluginKind::Authz), AUTHZ_PLUGIN_KEY);
    assert_eq!(plugin_key(PluginKind::Export), EXPORT_PLUGIN_KEY);
    assert_ne!(AUTHZ_PLUGIN_KEY, EXPORT_PLUGIN_KEY);
}

#[test]
fn the_plugins_config_map_round_trips_through_the_reader() {
    let cm = plugins_config_map(
        PLUGINS_CONFIG_MAP,
        "linkerd",
        &[
            (AUTHZ_PLUGIN_KEY, b"authz-bytes"),
            (EXPORT_PLUGIN_KEY, b"export-bytes"),
        ],
        Some("2026-11-26.1"),
    );
    for (key, bytes) in [
        (AUTHZ_PLUGIN_KEY, &b"authz-bytes"[..]),
        (EXPORT_PLUGIN_KEY, &b"export-bytes"[..]),
    ] {
        let plugin = read_plugin(&cm, key).unwrap();
        assert_eq!(plugin.bytes, bytes);
        assert_eq!(plugin.version.as_deref(), Some("2026-11-26.1"));
    }
    let unversioned = plugins_config_map("p", "ns", &[], None);
    assert!(unversioned.metadata.annotations.is_none());
}
