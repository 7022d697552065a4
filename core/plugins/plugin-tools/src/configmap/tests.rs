use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use strait_plugin_config::{PLUGIN_VERSION_ANNOTATION, plugins_config_map};

use super::{merge, with_type};

#[test]
fn pushing_one_key_keeps_the_other_and_drops_stale_statuses() {
    let mut current = plugins_config_map(
        "strait-plugins",
        "linkerd",
        &[("authz.wasm", b"old authz"), ("export.wasm", b"export")],
        Some("1.0"),
    );
    current
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert("status.strait.io/authz.wasm".into(), "active 1.0".into());
    current.metadata.resource_version = Some("42".into());

    let merged = merge(
        Some(current),
        "linkerd",
        "authz.wasm",
        b"new authz",
        Some("2.0"),
    );
    let data = merged.binary_data.unwrap();
    assert_eq!(data["authz.wasm"], ByteString(b"new authz".to_vec()));
    assert_eq!(data["export.wasm"], ByteString(b"export".to_vec()));
    let annotations = merged.metadata.annotations.unwrap();
    assert_eq!(annotations[PLUGIN_VERSION_ANNOTATION], "2.0");
    assert!(!annotations.contains_key("status.strait.io/authz.wasm"));
    assert_eq!(merged.metadata.resource_version, None);
}

#[test]
fn a_first_push_creates_the_config_map_without_a_version() {
    let merged = merge(None, "linkerd", "export.wasm", b"export", None);
    assert_eq!(merged.metadata.name.as_deref(), Some("strait-plugins"));
    assert_eq!(merged.metadata.namespace.as_deref(), Some("linkerd"));
    assert!(
        !merged
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key(PLUGIN_VERSION_ANNOTATION)
    );
    let value = with_type(&merge(None, "linkerd", "export.wasm", b"e", None));
    assert_eq!(value["kind"], "ConfigMap");
    assert_eq!(value["apiVersion"], "v1");
    assert_eq!(value["binaryData"]["export.wasm"], "ZQ==");
}

#[test]
fn the_rendered_config_map_holds_both_plugins_validated() {
    let yaml = super::render(None, None, "my-plugins", "strait", Some("1.2")).unwrap();
    let config_map: k8s_openapi::api::core::v1::ConfigMap = serde_norway::from_str(&yaml).unwrap();
    assert_eq!(config_map.metadata.name.as_deref(), Some("my-plugins"));
    assert_eq!(config_map.metadata.namespace.as_deref(), Some("strait"));
    let data = config_map.binary_data.unwrap();
    assert_eq!(
        data["authz.wasm"].0,
        strait_default_plugins::AUTHZ_DEFAULT.to_vec()
    );
    assert_eq!(
        data["export.wasm"].0,
        strait_default_plugins::EXPORT_DEFAULT.to_vec()
    );
    assert_eq!(
        config_map.metadata.annotations.unwrap()[PLUGIN_VERSION_ANNOTATION],
        "1.2"
    );
}

#[test]
fn a_plugin_of_the_wrong_kind_is_not_rendered() {
    let dir = std::env::temp_dir().join(format!("strait-plugin-tools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("export.wasm");
    std::fs::write(&export, strait_default_plugins::EXPORT_DEFAULT).unwrap();
    let error = super::render(Some(&export), None, "p", "linkerd", None).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    let error = error.to_string();
    assert!(error.contains("export.wasm"), "{error}");
}
