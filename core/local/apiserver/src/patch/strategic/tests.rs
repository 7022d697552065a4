//! The patches kubectl sends, applied as the API server applies them.

use serde_json::{Value, json};

use super::*;
use crate::patch::tests::{dismantle, nested};

fn smp(target: &Value, patch: Value, group: &str, kind: &str) -> Value {
    let out = strategic_merge_patch(target, &patch, group, kind).unwrap();
    assert_no_directives(&out);
    out
}

/// No key of a patched object may be a directive.
fn assert_no_directives(value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                assert!(!key.starts_with('$'), "directive {key} stored");
                assert_no_directives(child);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_no_directives),
        _ => {}
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "web:1",
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "env": [
                                {"name": "A", "value": "1"},
                                {"name": "B", "value": "2"}
                            ]
                        },
                        {"name": "sidecar", "image": "proxy:1"}
                    ],
                    "tolerations": [{"key": "a", "operator": "Exists"}]
                }
            }
        }
    })
}

#[test]
fn kubectl_label_adds_a_label() {
    let service = json!({"metadata": {"name": "bb", "labels": {"app": "bb"}}, "spec": {"ports": [{"port": 80}]}});
    let out = smp(
        &service,
        json!({"metadata":{"labels":{"mirror.linkerd.io/exported":"remote-discovery"}}}),
        "",
        "Service",
    );
    assert_eq!(
        out["metadata"]["labels"],
        json!({"app": "bb", "mirror.linkerd.io/exported": "remote-discovery"})
    );
    assert_eq!(out["spec"], service["spec"]);
}

#[test]
fn null_deletes_a_label() {
    let service =
        json!({"metadata": {"labels": {"app": "bb", "mirror.linkerd.io/exported": "true"}}});
    let out = smp(
        &service,
        json!({"metadata": {"labels": {"mirror.linkerd.io/exported": null}}}),
        "",
        "Service",
    );
    assert_eq!(out["metadata"]["labels"], json!({"app": "bb"}));
}

#[test]
fn rollout_restart_annotates_the_template() {
    let out = smp(
        &deployment(),
        json!({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-02T03:04:05Z"}}}}}),
        "apps",
        "Deployment",
    );
    let template = &out["spec"]["template"];
    assert_eq!(
        template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        "2026-01-02T03:04:05Z"
    );
    assert_eq!(template["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(template["spec"], deployment()["spec"]["template"]["spec"]);
}

#[test]
fn client_side_apply_orders_and_deletes_containers() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [
            {"name": "web", "image": "web:2"},
            {"$patch": "delete", "name": "sidecar"}
        ]
    }}}});
    let out = smp(&deployment(), patch, "apps", "Deployment");
    let containers = &out["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(containers), ["web"]);
    assert_eq!(containers[0]["image"], "web:2");
    assert_eq!(
        containers[0]["env"],
        deployment()["spec"]["template"]["spec"]["containers"][0]["env"],
        "fields the patch does not name are kept"
    );
}

#[test]
fn set_element_order_reorders_and_keeps_server_elements() {
    let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "d"}],
        "containers": [{"name": "d", "image": "d:1"}]
    }});
    let out = smp(&pod, patch, "", "Pod");
    assert_eq!(names(&out["spec"]["containers"]), ["b", "c", "a", "d"]);
}

#[test]
fn set_element_order_without_the_list_only_reorders() {
    let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}});
    let out = smp(&pod, patch, "", "Pod");
    assert_eq!(names(&out["spec"]["containers"]), ["b", "a"]);
}

#[test]
fn container_env_merges_by_name() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [{
        "name": "web",
        "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}]
    }]}}}});
    let out = smp(&deployment(), patch, "apps", "Deployment");
    let containers = &out["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(containers), ["web", "sidecar"]);
    assert_eq!(
        containers[0]["env"],
        json!([
            {"name": "A", "value": "1"},
            {"name": "B", "value": "two"},
            {"name": "C", "value": "3"}
        ])
    );
}

#[test]
fn env_element_deleted_by_directive() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [{
        "name": "web",
        "env": [{"name": "A", "$patch": "delete"}]
    }]}}}});
    let out = smp(&deployment(), patch, "apps", "Deployment");
    let env = &out["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(env, &json!([{"name": "B", "value": "2"}]));
}

#[test]
fn service_ports_merge_by_port_and_container_ports_by_container_port() {
    let service = json!({"spec": {"ports": [
        {"name": "http", "port": 80, "targetPort": 8080},
        {"name": "https", "port": 443, "targetPort": 8443}
    ]}});
    let out = smp(
        &service,
        json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 4191, "name": "admin"}]}}),
        "",
        "Service",
    );
    // The patch's ports keep the patch's order and go before the server's
    // later ones, as the API server orders them.
    assert_eq!(
        out["spec"]["ports"],
        json!([
            {"name": "http", "port": 80, "targetPort": 9090},
            {"name": "admin", "port": 4191},
            {"name": "https", "port": 443, "targetPort": 8443}
        ])
    );
    let patch = json!({"spec": {"template": {"spec": {"containers": [{
        "name": "web",
        "ports": [{"containerPort": 9990, "name": "admin"}]
    }]}}}});
    let out = smp(&deployment(), patch, "apps", "Deployment");
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 9990, "name": "admin"}, {"containerPort": 8080, "name": "http"}])
    );
}

#[test]
fn service_port_without_merge_key_is_refused() {
    let service = json!({"spec": {"ports": [{"port": 80}]}});
    let err = strategic_merge_patch(
        &service,
        &json!({"spec": {"ports": [{"name": "http"}]}}),
        "",
        "Service",
    )
    .unwrap_err();
    assert_eq!(
        err,
        PatchError::Strategic {
            path: "spec.ports".to_owned(),
            reason: StrategicReason::MissingMergeKey("port"),
        }
    );
}

#[test]
fn lists_without_a_strategy_are_replaced() {
    let patch = json!({"spec": {"template": {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}}});
    let out = smp(&deployment(), patch, "apps", "Deployment");
    assert_eq!(
        out["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "b", "operator": "Exists"}])
    );
    let slice = json!({"endpoints": [{"addresses": ["10.0.0.1"]}], "ports": [{"port": 80}]});
    let out = smp(
        &slice,
        json!({"endpoints": [{"addresses": ["10.0.0.2"]}], "ports": [{"port": 81}]}),
        "discovery.k8s.io",
        "EndpointSlice",
    );
    assert_eq!(out["endpoints"], json!([{"addresses": ["10.0.0.2"]}]));
    assert_eq!(out["ports"], json!([{"port": 81}]));
}

#[test]
fn owner_references_merge_by_uid_and_finalizers_as_a_set() {
    let cm = json!({"metadata": {
        "finalizers": ["a", "b"],
        "ownerReferences": [{"uid": "1", "name": "x"}]
    }});
    let out = smp(
        &cm,
        json!({"metadata": {
            "finalizers": ["c", "a"],
            "$deleteFromPrimitiveList/finalizers": ["b"],
            "ownerReferences": [{"uid": "2", "name": "y"}]
        }}),
        "",
        "ConfigMap",
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "a"]));
    assert_eq!(
        out["metadata"]["ownerReferences"],
        json!([{"uid": "2", "name": "y"}, {"uid": "1", "name": "x"}])
    );
}

/// Kubernetes' own case "preserve the order from the patch in a merging
/// list 2": the server's unpatched element stays before the ones the patch
/// lists after it.
#[test]
fn merged_lists_keep_patch_order_around_server_elements() {
    let pod = json!({"spec": {"containers": [
        {"name": "1"},
        {"name": "2", "image": "b"},
        {"name": "3"}
    ]}});
    let out = smp(
        &pod,
        json!({"spec": {"containers": [{"name": "3", "image": "c"}, {"name": "1", "image": "a"}]}}),
        "",
        "Pod",
    );
    assert_eq!(
        out["spec"]["containers"],
        json!([
            {"name": "2", "image": "b"},
            {"name": "3", "image": "c"},
            {"name": "1", "image": "a"}
        ])
    );
    let ns = json!({"metadata": {"finalizers": ["1", "2", "3"]}});
    let out = smp(
        &ns,
        json!({"metadata": {"finalizers": ["3", "1"]}}),
        "",
        "Namespace",
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["2", "3", "1"]));
}

#[test]
fn pod_status_conditions_merge_by_type() {
    let pod = json!({"status": {"conditions": [
        {"type": "Ready", "status": "False"},
        {"type": "PodScheduled", "status": "True"}
    ]}});
    let out = smp(
        &pod,
        json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        "",
        "Pod",
    );
    assert_eq!(
        out["status"]["conditions"],
        json!([
            {"type": "Ready", "status": "True"},
            {"type": "PodScheduled", "status": "True"}
        ])
    );
}

#[test]
fn patch_replace_and_delete_on_maps() {
    let out = smp(
        &deployment(),
        json!({"metadata": {"labels": {"$patch": "replace", "tier": "front"}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(out["metadata"]["labels"], json!({"tier": "front"}));
    let out = smp(
        &deployment(),
        json!({"spec": {"strategy": {"$patch": "delete"}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(out["spec"]["strategy"], json!({}));
    let out = smp(
        &deployment(),
        json!({"metadata": {"labels": {"$patch": "merge", "tier": "front"}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(
        out["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
}

#[test]
fn patch_replace_in_a_list_replaces_it() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "only:1", "env": [{"name": "X", "value": null}]},
        {"$patch": "replace"}
    ]}}}});
    let out = smp(&deployment(), patch, "apps", "Deployment");
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "only", "image": "only:1", "env": [{"name": "X"}]}])
    );
}

#[test]
fn retain_keys_drops_unlisted_fields() {
    let out = smp(
        &deployment(),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn added_subtrees_lose_nulls_and_directives() {
    let pod = json!({"metadata": {"name": "p"}});
    let out = smp(
        &pod,
        json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "a", "image": null, "env": [{"name": "E", "$patch": "merge"}]}],
            "securityContext": {"$patch": "replace", "runAsUser": 1000}
        }}),
        "",
        "Pod",
    );
    assert_eq!(
        out["spec"],
        json!({
            "containers": [{"name": "a", "env": [{"name": "E"}]}],
            "securityContext": {"runAsUser": 1000}
        })
    );
}

#[test]
fn malformed_directives_are_refused() {
    let pod = json!({"spec": {"containers": [{"name": "a"}]}});
    let cases = [
        (
            json!({"spec": {"$patch": "explode"}}),
            "spec",
            StrategicReason::BadDirective("\"explode\"".to_owned()),
        ),
        (
            json!({"spec": {"containers": [{"name": "a", "$patch": 3}]}}),
            "spec.containers",
            StrategicReason::BadDirective("3".to_owned()),
        ),
        (
            json!({"spec": {"$frobnicate": 1}}),
            "spec",
            StrategicReason::UnknownDirective("$frobnicate".to_owned()),
        ),
        (
            json!({"spec": {"containers": ["a"]}}),
            "spec.containers",
            StrategicReason::MixedList {
                expected: "objects",
            },
        ),
        (
            json!({"metadata": {"finalizers": [{"a": 1}]}}),
            "metadata.finalizers",
            StrategicReason::MixedList {
                expected: "scalars",
            },
        ),
        (
            json!({"spec": {"$setElementOrder/containers": "a"}}),
            "spec.containers",
            StrategicReason::BadDirectiveValue {
                directive: "$setElementOrder/containers".to_owned(),
                expected: "a list",
            },
        ),
        (
            json!({"spec": {"$retainKeys": [1]}}),
            "spec",
            StrategicReason::BadDirectiveValue {
                directive: "$retainKeys".to_owned(),
                expected: "a list of field names",
            },
        ),
    ];
    for (patch, path, reason) in cases {
        let err = strategic_merge_patch(&pod, &patch, "", "Pod").unwrap_err();
        assert_eq!(
            err,
            PatchError::Strategic {
                path: path.to_owned(),
                reason,
            },
            "{patch}"
        );
    }
}

#[test]
fn custom_resources_are_unsupported() {
    let link = json!({"spec": {"targetClusterName": "east"}});
    let err = strategic_merge_patch(
        &link,
        &json!({"spec": {"targetClusterName": "west"}}),
        "multicluster.linkerd.io",
        "Link",
    )
    .unwrap_err();
    assert_eq!(
        err,
        PatchError::StrategicUnsupported {
            kind: "Link.multicluster.linkerd.io".to_owned()
        }
    );
    assert!(strategic_merge_patch(&link, &json!({}), "apps", "Link").is_err());
}

#[test]
fn strategic_patch_must_be_an_object() {
    let err = strategic_merge_patch(&json!({}), &json!("x"), "", "Pod").unwrap_err();
    assert!(matches!(
        err,
        PatchError::NotAnObject {
            found: "a string",
            ..
        }
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = nested(100_000);
    let patch = json!({"metadata": {"annotations": null}});
    let mut patch = patch;
    patch["metadata"]["annotations"] = deep;
    let err = strategic_merge_patch(&json!({}), &patch, "", "ConfigMap").unwrap_err();
    let PatchError::TooDeep { pointer, .. } = &err else {
        panic!("expected TooDeep, got {err:?}");
    };
    assert!(pointer.starts_with("/metadata/annotations/a/"), "{pointer}");
    if let Some(Value::Object(mut metadata)) =
        patch.as_object_mut().and_then(|p| p.remove("metadata"))
    {
        dismantle(metadata.remove("annotations").unwrap_or(Value::Null));
    }
}
