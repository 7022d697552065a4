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
