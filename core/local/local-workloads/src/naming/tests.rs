use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;

#[test]
fn template_hashes_are_stable_and_change_with_the_template() {
    let a = json!({"metadata": {"labels": {"app": "bb"}}});
    let b = json!({"metadata": {"labels": {"app": "bb2"}}});
    assert_eq!(template_hash(&a), template_hash(&a.clone()));
    assert_ne!(template_hash(&a), template_hash(&b));
    assert!(
        template_hash(&a)
            .chars()
            .all(|c| ALPHANUMS.contains(&(c as u8)))
    );
}

#[test]
fn random_suffixes_are_lowercase_alphanumeric_and_differ() {
    let a = random_suffix(5);
    let b = random_suffix(5);
    assert_eq!(a.len(), 5);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    assert_ne!(a, b);
}

#[test]
fn the_deployment_is_read_from_the_replicaset_owner_and_hash() {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {
            "name": "bb-abc-xyz12", "labels": {"pod-template-hash": "abc"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "bb-abc", "uid": "1", "controller": true}]
        }
    }))
    .unwrap();
    assert_eq!(deployment_of(&pod).as_deref(), Some("bb"));
    let bare: Pod = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
    assert_eq!(deployment_of(&bare), None);
}

#[test]
fn times_are_written_as_kubernetes_writes_them() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}
