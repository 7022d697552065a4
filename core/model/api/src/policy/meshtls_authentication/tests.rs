use serde_json::json;

use super::*;
use crate::testing::{pod_to_pod_document, refusal, round_trip};

#[test]
fn the_guides_authentication_round_trips() {
    let authn: MeshTlsAuthentication = round_trip(&pod_to_pod_document("MeshTLSAuthentication"));
    assert_eq!(
        authn.spec.identities,
        Some(vec![
            "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local".to_owned()
        ])
    );
    assert_eq!(authn.spec.identity_refs, None);
}

#[test]
fn identity_refs_round_trip_with_and_without_a_name() {
    let authn: MeshTlsAuthentication = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "MeshTLSAuthentication",
        "metadata": {"name": "clients", "namespace": "mc-demo"},
        "spec": {
            "identityRefs": [
                {"kind": "ServiceAccount", "name": "slow-cooker"},
                {"kind": "Namespace", "name": "linkerd-viz"},
                {"group": "", "kind": "ServiceAccount", "namespace": "ops"}
            ]
        }
    }));
    let refs = authn.spec.identity_refs.unwrap_or_default();
    assert_eq!(refs[0].name.as_deref(), Some("slow-cooker"));
    assert_eq!(refs[1].kind, "Namespace");
    assert_eq!(refs[2].name, None);
    assert_eq!(refs[2].group.as_deref(), Some(""));
}

#[test]
fn a_single_identity_must_still_be_a_list() {
    let yaml = "apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\n\
                metadata: {name: a}\nspec:\n  identities: '*'\n";
    let err = refusal::<MeshTlsAuthentication>(yaml);
    assert!(
        err.starts_with("spec.identities: invalid type: string \"*\", expected a sequence"),
        "{err}"
    );
}
