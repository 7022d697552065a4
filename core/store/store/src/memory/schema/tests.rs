use serde_json::{Value, json};

use super::*;

/// MeshTLSAuthentication's schema as strait's definition has it: exactly
/// one of two lists, neither empty.
fn meshtls() -> Value {
    json!({
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "oneOf": [{"required": ["identities"]}, {"required": ["identityRefs"]}],
                "properties": {
                    "identities": {
                        "type": "array", "nullable": true, "minItems": 1,
                        "items": {"type": "string"}
                    },
                    "identityRefs": {
                        "type": "array", "nullable": true, "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["kind"],
                            "properties": {
                                "kind": {"type": "string"},
                                "name": {"type": "string", "nullable": true}
                            }
                        }
                    }
                }
            },
            "status": {"type": "object", "properties": {"x": {"type": "string"}}}
        }
    })
}

fn server() -> Value {
    json!({
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["podSelector", "port"],
                "properties": {
                    "podSelector": {
                        "type": "object",
                        "properties": {
                            "matchLabels": {
                                "type": "object",
                                "additionalProperties": {"type": "string"}
                            }
                        }
                    },
                    "port": {"x-kubernetes-int-or-string": true},
                    "proxyProtocol": {
                        "type": "string", "nullable": true,
                        "enum": ["unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS"]
                    },
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "number": {"type": "integer", "minimum": 1.0, "maximum": 65535.0},
                    "name": {"type": "string", "minLength": 1, "maxLength": 5}
                }
            }
        }
    })
}

fn object(spec: Value) -> Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "MeshTLSAuthentication",
        "metadata": {"name": "nobody", "namespace": "mc-demo", "labels": {"a": "b"}},
        "spec": spec,
        "status": {"anything": ["goes", 1]}
    })
}

#[test]
fn a_valid_object_has_no_faults() {
    let good = object(
        json!({"identities": ["slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local"]}),
    );
    assert_eq!(validate(&meshtls(), &good), Vec::<String>::new());
    let refs = object(json!({"identityRefs": [{"kind": "ServiceAccount", "name": null}]}));
    assert_eq!(validate(&meshtls(), &refs), Vec::<String>::new());
}

#[test]
fn an_empty_list_breaks_min_items_and_is_named_by_path() {
    let faults = validate(&meshtls(), &object(json!({"identities": []})));
    assert_eq!(
        faults,
        ["spec.identities: Invalid value: 0: spec.identities in body should have at least 1 items"]
    );
}

#[test]
fn one_of_needs_exactly_one_branch() {
    let neither = validate(&meshtls(), &object(json!({})));
    assert_eq!(
        neither,
        [
            "spec: Invalid value: \"object\": spec in body must validate one and only one schema (oneOf). Found none valid",
            "spec.identities: Required value",
            "spec.identityRefs: Required value",
        ]
    );
    let both = validate(
        &meshtls(),
        &object(json!({"identities": ["a"], "identityRefs": [{"kind": "Namespace"}]})),
    );
    assert_eq!(
        both,
        [
            "spec: Invalid value: \"object\": spec in body must validate one and only one schema (oneOf). Found 2 valid alternatives"
        ]
    );
}

#[test]
fn types_required_fields_and_unknown_fields_are_named() {
    let faults = validate(
        &meshtls(),
        &object(json!({"identities": "everyone", "identityRefs": [{"name": 3}], "extra": 1})),
    );
    assert_eq!(
        faults,
        [
            "unknown field \"spec.extra\"",
            "spec.identities: Invalid value: \"string\": spec.identities in body must be of type array: \"string\"",
            "spec.identityRefs[0].kind: Required value",
            "spec.identityRefs[0].name: Invalid value: \"integer\": spec.identityRefs[0].name in body must be of type string: \"integer\"",
            "spec: Invalid value: \"object\": spec in body must validate one and only one schema (oneOf). Found 2 valid alternatives",
        ]
    );
    let missing = validate(
        &meshtls(),
        &json!({"apiVersion": "v", "kind": "K", "metadata": {}}),
    );
    assert_eq!(missing, ["spec: Required value"]);
    let top = validate(
        &meshtls(),
        &json!({"spec": {"identities": ["a"]}, "extra": {}}),
    );
    assert_eq!(top, ["unknown field \"extra\""]);
}

#[test]
fn a_null_in_a_field_that_is_not_nullable_counts_as_absent() {
    let faults = validate(
        &server(),
        &json!({"spec": {"podSelector": null, "port": null}}),
    );
    assert_eq!(
        faults,
        [
            "spec.podSelector: Required value",
            "spec.port: Required value"
        ]
    );
    let nullable = validate(
        &server(),
        &json!({"spec": {"podSelector": {}, "port": 8080, "proxyProtocol": null}}),
    );
    assert_eq!(nullable, Vec::<String>::new());
}

#[test]
fn int_or_string_enum_maps_bounds_and_preserved_fields() {
    let good = json!({"spec": {
        "podSelector": {"matchLabels": {"app": "bb"}},
        "port": "http",
        "proxyProtocol": "HTTP/2",
        "extra": {"anything": {"at": ["all"]}},
        "number": 8080,
        "name": "bb"
    }});
    assert_eq!(validate(&server(), &good), Vec::<String>::new());
    let bad = json!({"spec": {
        "podSelector": {"matchLabels": {"app": 1}},
        "port": true,
        "proxyProtocol": "HTTP/3",
        "number": 0,
        "name": ""
    }});
    assert_eq!(
        validate(&server(), &bad),
        [
            "spec.name: Invalid value: \"\": spec.name in body should be at least 1 chars long",
            "spec.number: Invalid value: 0: spec.number in body should be greater than or equal to 1",
            "spec.podSelector.matchLabels.app: Invalid value: \"integer\": spec.podSelector.matchLabels.app in body must be of type string: \"integer\"",
            "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\"",
            "spec.proxyProtocol: Unsupported value: \"HTTP/3\": supported values: \"unknown\", \"HTTP/1\", \"HTTP/2\", \"gRPC\", \"opaque\", \"TLS\"",
        ]
    );
    let high =
        json!({"spec": {"podSelector": {}, "port": 1.5, "number": 70000, "name": "toolong"}});
    assert_eq!(
        validate(&server(), &high),
        [
            "spec.name: Too long: may not be longer than 5",
            "spec.number: Invalid value: 70000: spec.number in body should be less than or equal to 65535",
            "spec.port: Invalid value: \"number\": spec.port in body must be of type integer,string: \"number\"",
        ]
    );
}

#[test]
fn any_of_not_and_max_items() {
    let schema = json!({"properties": {"spec": {
        "type": "object",
        "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
        "not": {"required": ["c"]},
        "properties": {
            "a": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
            "b": {"type": "string"},
            "c": {"type": "string"}
        }
    }}});
    assert_eq!(
        validate(&schema, &json!({"spec": {"a": ["x"]}})),
        Vec::<String>::new()
    );
    assert_eq!(
        validate(&schema, &json!({"spec": {"a": ["x", "y"], "c": "z"}})),
        [
            "spec.a: Too many: 2: must have at most 1 items",
            "spec: Invalid value: \"object\": spec in body must not validate the schema (not)",
        ]
    );
    assert_eq!(
        validate(&schema, &json!({"spec": {"c": "z"}})),
        [
            "spec: Invalid value: \"object\": spec in body must validate at least one schema (anyOf)",
            "spec.a: Required value",
            "spec.b: Required value",
            "spec: Invalid value: \"object\": spec in body must not validate the schema (not)",
        ]
    );
}

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "meshtlsauthentications.policy.linkerd.io"},
        "spec": {
            "group": "policy.linkerd.io",
            "names": {"kind": "MeshTLSAuthentication", "plural": "meshtlsauthentications"},
            "scope": "Namespaced",
            "versions": [
                {"name": "v1alpha1", "served": true, "storage": true,
                 "schema": {"openAPIV3Schema": meshtls()}},
                {"name": "v1alpha0", "served": false, "storage": false,
                 "schema": {"openAPIV3Schema": {}}}
            ]
        }
    })
}

#[test]
fn a_definition_checks_the_version_an_object_names() {
    let definition = Definition::from_crd(&crd()).unwrap();
    assert_eq!(definition.kind.plural, "meshtlsauthentications");
    assert!(definition.kind.namespaced);
    let empty = object(json!({"identities": []}));
    assert_eq!(
        definition
            .check("policy.linkerd.io/v1alpha1", &empty)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        definition
            .check("policy.linkerd.io/v1alpha0", &empty)
            .map_err(|e| e.to_string()),
        Err("no matches for kind \"MeshTLSAuthentication\" in version \"policy.linkerd.io/v1alpha0\" (served: v1alpha1)".to_string())
    );
}

#[test]
fn a_malformed_definition_is_refused_naming_the_field() {
    let mut no_scope = crd();
    no_scope["spec"]["scope"] = json!("Everywhere");
    assert_eq!(
        Definition::from_crd(&no_scope).unwrap_err().to_string(),
        "spec.scope: Unsupported value: \"Everywhere\": supported values: \"Cluster\", \"Namespaced\""
    );
    let mut no_group = crd();
    no_group["spec"]["group"] = json!("");
    assert_eq!(
        Definition::from_crd(&no_group).unwrap_err(),
        DefinitionError::Required("group".into())
    );
}
