use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use super::*;

fn definitions() -> Vec<CustomResourceDefinition> {
    custom_resource_definitions().unwrap_or_else(|e| panic!("{e}"))
}

fn named(name: &str) -> CustomResourceDefinition {
    definitions()
        .into_iter()
        .find(|crd| crd.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The `spec` schema of `version` of the definition, as JSON.
fn spec_schema(crd: &CustomResourceDefinition, version: &str) -> Value {
    let version = crd
        .spec
        .versions
        .iter()
        .find(|v| v.name == version)
        .unwrap_or_else(|| panic!("no version {version}"));
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref());
    let schema = serde_json::to_value(schema).unwrap_or_default();
    schema["properties"]["spec"].clone()
}

#[test]
fn the_definitions_have_linkerds_names_in_a_fixed_order() {
    let names: Vec<_> = definitions()
        .into_iter()
        .filter_map(|crd| crd.metadata.name)
        .collect();
    assert_eq!(
        names,
        [
            "links.multicluster.linkerd.io",
            "servers.policy.linkerd.io",
            "serverauthorizations.policy.linkerd.io",
            "authorizationpolicies.policy.linkerd.io",
            "meshtlsauthentications.policy.linkerd.io",
            "networkauthentications.policy.linkerd.io",
            "httproutes.policy.linkerd.io",
            "httproutes.gateway.networking.k8s.io",
        ]
    );
    for crd in definitions() {
        assert_eq!(crd.spec.scope, "Namespaced", "{:?}", crd.metadata.name);
    }
}

#[test]
fn each_definition_stores_exactly_one_served_version() {
    for crd in definitions() {
        let stored: Vec<_> = crd.spec.versions.iter().filter(|v| v.storage).collect();
        assert_eq!(stored.len(), 1, "{:?}", crd.metadata.name);
        assert!(crd.spec.versions.iter().all(|v| v.served));
    }
}

#[test]
fn the_server_serves_three_versions_and_stores_v1beta3() {
    let server = named("servers.policy.linkerd.io");
    let versions: Vec<_> = server
        .spec
        .versions
        .iter()
        .map(|v| (v.name.as_str(), v.storage, v.deprecated.unwrap_or(false)))
        .collect();
    assert_eq!(
        versions,
        [
            ("v1beta1", false, true),
            ("v1beta2", false, false),
            ("v1beta3", true, false)
        ]
    );
    assert_eq!(server.spec.names.short_names, Some(vec!["srv".to_owned()]));
    let v1beta3 = spec_schema(&server, "v1beta3");
    assert_eq!(v1beta3["properties"]["accessPolicy"]["default"], "deny");
    assert!(spec_schema(&server, "v1beta2")["properties"]["accessPolicy"].is_null());
    assert_eq!(
        spec_schema(&server, "v1beta1")["required"],
        serde_json::json!(["podSelector", "port"])
    );
}

#[test]
fn the_server_port_is_int_or_string_and_the_protocols_are_listed() {
    let spec = spec_schema(&named("servers.policy.linkerd.io"), "v1beta3");
    assert_eq!(
        spec["properties"]["port"]["x-kubernetes-int-or-string"],
        true
    );
    assert_eq!(
        spec["properties"]["proxyProtocol"]["enum"],
        serde_json::json!(["unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS"])
    );
    assert_eq!(spec["properties"]["proxyProtocol"]["default"], "unknown");
}

#[test]
fn the_link_has_a_status_subresource_and_string_scalars() {
    let link = named("links.multicluster.linkerd.io");
    let version = &link.spec.versions[0];
    assert_eq!(version.name, "v1alpha3");
    assert!(
        version
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some()
    );
    let spec = spec_schema(&link, "v1alpha3");
    for field in [
        "targetClusterName",
        "targetClusterDomain",
        "targetClusterLinkerdNamespace",
        "clusterCredentialsSecret",
        "gatewayAddress",
        "gatewayPort",
        "gatewayIdentity",
    ] {
        assert_eq!(spec["properties"][field]["type"], "string", "{field}");
    }
    for field in ["path", "port", "period", "timeout", "failureThreshold"] {
        assert_eq!(
            spec["properties"]["probeSpec"]["properties"][field]["type"], "string",
            "{field}"
        );
    }
}

/// Every node of a structural schema must say its type, or be one of the
/// two markers that stand in for one; the API server refuses the CRD
/// otherwise.
fn assert_structural(path: &str, schema: &Value) {
    let typed = schema.get("type").is_some()
        || schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        || schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    assert!(typed, "{path} has no type: {schema}");
    for key in ["anyOf", "allOf", "not", "$ref", "definitions", "$defs"] {
        assert!(schema.get(key).is_none(), "{path} uses {key}");
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            assert_structural(&format!("{path}.{name}"), property);
        }
    }
    if let Some(items) = schema.get("items") {
        assert_structural(&format!("{path}[]"), items);
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        assert_structural(&format!("{path}{{}}"), values);
    }
}

#[test]
fn every_schema_is_structural() {
    for crd in definitions() {
        for version in &crd.spec.versions {
            let schema = version
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref());
            let schema = serde_json::to_value(schema).unwrap_or_default();
            let name = crd.metadata.name.as_deref().unwrap_or_default();
            assert_structural(&format!("{name}/{}", version.name), &schema);
        }
    }
}

#[test]
fn opaque_route_fields_are_optional_and_kept() {
    let spec = spec_schema(&named("httproutes.policy.linkerd.io"), "v1beta3");
    let rule = &spec["properties"]["rules"]["items"];
    assert!(rule.get("required").is_none(), "{rule}");
    assert_eq!(
        rule["properties"]["filters"]["items"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
    assert_eq!(
        rule["properties"]["timeouts"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
}
