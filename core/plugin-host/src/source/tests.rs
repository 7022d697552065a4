use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

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
    let plugin = PluginSource::ConfigMap {
        config_map: &cm,
        key: "authz.wasm",
        version_annotation: Some("strait.io/plugin-version"),
    }
    .read()
    .unwrap();
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
    let plugin = PluginSource::ConfigMap {
        config_map: &cm,
        key: "export.wat",
        version_annotation: None,
    }
    .read()
    .unwrap();
    assert_eq!(plugin.bytes, b"(component)");
    assert_eq!(plugin.version, None);
    assert!(plugin.component_binary().is_ok());
}

#[test]
fn a_missing_key_lists_the_keys_present() {
    let cm = config_map();
    let err = PluginSource::ConfigMap {
        config_map: &cm,
        key: "export.wasm",
        version_annotation: None,
    }
    .read()
    .unwrap_err()
    .to_string();
    assert!(err.contains("linkerd/strait-plugins"), "{err}");
    assert!(err.contains("export.wasm"), "{err}");
    assert!(err.contains("authz.wasm, export.wat"), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let err = PluginSource::File(Path::new("no/such/plugin.wasm"))
        .read()
        .unwrap_err()
        .to_string();
    assert!(err.contains("no/such/plugin.wasm"), "{err}");
}

fn classify(bytes: &[u8]) -> Result<Vec<u8>, String> {
    PluginBytes {
        origin: "test".into(),
        bytes: bytes.to_vec(),
        version: None,
    }
    .component_binary()
    .map(|b| b.into_owned())
    .map_err(|e| e.to_string())
}

#[test]
fn classifies_bytes_before_compiling() {
    assert!(classify(b"").unwrap_err().contains("empty"));
    assert!(
        classify(b"\0asm\x01\0\0\0")
            .unwrap_err()
            .contains("core Wasm module")
    );
    assert!(
        classify(b"\0asm\x0d\0\x07\0")
            .unwrap_err()
            .contains("unknown version")
    );
    assert!(classify(b"PK\x03\x04").unwrap_err().contains("50 4b 03 04"));
    assert!(classify(b"hello").unwrap_err().contains("neither"));
    let component = classify(b";; a comment\n(; block ;) (component)").unwrap();
    assert_eq!(&component[..4], b"\0asm");
    assert!(classify(b"(module)").unwrap_err().contains("core module"));
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
        let plugin = PluginSource::ConfigMap {
            config_map: &cm,
            key,
            version_annotation: Some(PLUGIN_VERSION_ANNOTATION),
        }
        .read()
        .unwrap();
        assert_eq!(plugin.bytes, bytes);
        assert_eq!(plugin.version.as_deref(), Some("2026-11-26.1"));
    }
    let unversioned = plugins_config_map("p", "ns", &[], None);
    assert!(unversioned.metadata.annotations.is_none());
}
