use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

#[test]
fn a_manifest_names_its_api_version_and_kind_for_the_local_api() {
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some("strait-plugins".into()),
            namespace: Some("linkerd".into()),
            ..ObjectMeta::default()
        },
        binary_data: Some(BTreeMap::from([(
            "export.wasm".to_string(),
            ByteString(b"e".to_vec()),
        )])),
        ..ConfigMap::default()
    };
    let value = to_manifest(&config_map).unwrap();
    assert_eq!(value["kind"], "ConfigMap");
    assert_eq!(value["apiVersion"], "v1");
    assert_eq!(value["metadata"]["name"], "strait-plugins");
    assert_eq!(value["binaryData"]["export.wasm"], "ZQ==");
}
