use serde_json::json;

use super::*;
use crate::testing::{pod_to_pod_document, refusal, round_trip};

#[test]
fn the_guides_policy_round_trips() {
    let policy: AuthorizationPolicy = round_trip(&pod_to_pod_document("AuthorizationPolicy"));
    assert_eq!(
        policy.spec.target_ref,
        LocalTargetRef {
            group: Some("policy.linkerd.io".into()),
            kind: "Server".into(),
            name: "bb".into(),
        }
    );
    assert_eq!(
        policy.spec.required_authentication_refs,
        vec![NamespacedTargetRef {
            group: Some("policy.linkerd.io".into()),
            kind: "MeshTLSAuthentication".into(),
            name: "bb-good".into(),
            namespace: None,
        }]
    );
}

#[test]
fn authentications_in_other_namespaces_and_core_kinds_round_trip() {
    let policy: AuthorizationPolicy = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "ns-wide", "namespace": "mc-demo"},
        "spec": {
            "targetRef": {"kind": "Namespace", "name": "mc-demo"},
            "requiredAuthenticationRefs": [
                {"kind": "ServiceAccount", "name": "slow-cooker", "namespace": "mc-demo"},
                {"group": "policy.linkerd.io", "kind": "NetworkAuthentication",
                 "name": "cluster-nets", "namespace": "linkerd"}
            ]
        }
    }));
    assert_eq!(policy.spec.target_ref.group, None);
    assert_eq!(
        policy.spec.required_authentication_refs[1]
            .namespace
            .as_deref(),
        Some("linkerd")
    );
}

#[test]
fn an_authentication_ref_needs_a_name() {
    // Without a name the policy could not be tied to an authentication, and
    // must not silently become "any client".
    let yaml = "apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\n\
                metadata: {name: p}\nspec:\n  targetRef: {kind: Server, name: bb}\n  \
                requiredAuthenticationRefs:\n  - {kind: MeshTLSAuthentication}\n";
    let err = refusal::<AuthorizationPolicy>(yaml);
    assert!(
        err.starts_with("spec.requiredAuthenticationRefs[0]: missing field `name`"),
        "{err}"
    );
}

#[test]
fn the_required_authentications_are_required() {
    let yaml = "apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\n\
                metadata: {name: p}\nspec:\n  targetRef: {kind: Server, name: bb}\n";
    let err = refusal::<AuthorizationPolicy>(yaml);
    assert!(
        err.starts_with("spec: missing field `requiredAuthenticationRefs`"),
        "{err}"
    );
}
