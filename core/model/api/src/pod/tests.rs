use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;

fn pod(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).unwrap()
}

#[test]
fn the_deployment_is_read_from_the_controlling_replicaset_and_the_hash() {
    let owned = |kind: &str, owner: &str, controller: bool, hash: &str| {
        pod(json!({
            "metadata": {
                "name": "bb-abc-xyz12", "labels": {"pod-template-hash": hash},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": kind,
                                     "name": owner, "uid": "1", "controller": controller}]
            }
        }))
    };
    assert_eq!(
        deployment_of(&owned("ReplicaSet", "bb-abc", true, "abc")).as_deref(),
        Some("bb")
    );
    // Not controlled by a ReplicaSet, or a name that is not the
    // Deployment's plus the hash: no Deployment.
    assert_eq!(
        deployment_of(&owned("ReplicaSet", "bb-abc", false, "abc")),
        None
    );
    assert_eq!(
        deployment_of(&owned("StatefulSet", "bb-abc", true, "abc")),
        None
    );
    assert_eq!(
        deployment_of(&owned("ReplicaSet", "bb-abc", true, "xyz")),
        None
    );
    assert_eq!(
        deployment_of(&owned("ReplicaSet", "-abc", true, "abc")),
        None
    );
    assert_eq!(
        deployment_of(&pod(json!({"metadata": {"name": "x"}}))),
        None
    );
}

#[test]
fn a_pod_is_ready_when_its_ready_condition_is_true() {
    let with = |status: &str| {
        pod(json!({
            "metadata": {"name": "x"},
            "status": {"conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": status}
            ]}
        }))
    };
    assert!(is_ready(&with("True")));
    assert!(!is_ready(&with("False")));
    assert!(!is_ready(&with("Unknown")));
    assert!(!is_ready(&pod(json!({"metadata": {"name": "x"}}))));
}

#[test]
fn a_controller_is_the_controlling_owner_of_its_kind() {
    let owned = |kind: &str, controller: bool| {
        pod(json!({
            "metadata": {
                "name": "web-0",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": kind,
                                     "name": "web", "uid": "1", "controller": controller}]
            }
        }))
    };
    assert_eq!(
        controller_of(&owned("StatefulSet", true), "StatefulSet").as_deref(),
        Some("web")
    );
    assert_eq!(
        controller_of(&owned("StatefulSet", true), "ReplicaSet"),
        None
    );
    assert_eq!(
        controller_of(&owned("StatefulSet", false), "StatefulSet"),
        None
    );
    assert_eq!(
        controller_of(&pod(json!({"metadata": {"name": "p"}})), "ReplicaSet"),
        None
    );
}
