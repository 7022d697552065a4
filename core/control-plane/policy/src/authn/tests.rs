//! Authorization resources other than the guide's.

use serde_json::json;
use strait_decisions::authz::Decision;

use crate::config::IndexConfig;
use crate::fixtures::*;
use crate::index::Index;

fn bb_policy(index: &Index) -> std::sync::Arc<crate::InboundPolicy> {
    match index.policy(NS, "bb-1", 8080) {
        Some(p) => p.policy,
        None => panic!("port 8080 is not tracked"),
    }
}

fn winner(decision: Decision) -> String {
    match decision {
        Decision::Allow(r) => r.to_string(),
        Decision::Deny(_) => "denied".to_string(),
    }
}

fn index_with_server() -> Index {
    let mut index = Index::new(IndexConfig::default());
    index.apply_pod(&bb_pod("bb-1", json!({})));
    index.apply_server(&server("bb", json!(8080)));
    index
}

#[test]
fn server_authorization_by_service_account() {
    let mut index = index_with_server();
    index.apply_server_authorization(&server_authz(
        "bb-sa",
        json!({"name": "bb"}),
        json!({"meshTLS": {"serviceAccounts": [{"name": "slow-cooker"}]}}),
    ));
    let policy = bb_policy(&index);
    let admitted = decide(&policy, mtls(SLOW_COOKER), "10.1.2.3", "/");
    assert_eq!(winner(admitted), "serverauthorization/bb-sa");
    assert_eq!(
        winner(decide(&policy, mtls(SLOW_COOKER_EVIL), "10.1.2.3", "/")),
        "denied"
    );
    assert_eq!(winner(decide(&policy, plain(), "10.1.2.3", "/")), "denied");
}

#[test]
fn server_authorization_by_selector_with_networks() {
    let mut index = index_with_server();
    index.apply_server_authorization(&server_authz(
        "bb-net",
        json!({"selector": {"matchLabels": {"tier": "backend"}}}),
        json!({"unauthenticated": true, "networks": [{"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}]}),
    ));
    let policy = bb_policy(&index);
    assert_eq!(
        winner(decide(&policy, plain(), "10.1.2.3", "/")),
        "serverauthorization/bb-net"
    );
    assert_eq!(winner(decide(&policy, plain(), "10.9.2.3", "/")), "denied");
    assert_eq!(
        winner(decide(&policy, plain(), "192.168.1.1", "/")),
        "denied"
    );

    index.apply_server_authorization(&server_authz(
        "bb-net",
        json!({"selector": {"matchLabels": {"tier": "frontend"}}}),
        json!({"unauthenticated": true}),
    ));
    assert_eq!(
        winner(decide(&bb_policy(&index), plain(), "10.1.2.3", "/")),
        "denied"
    );
}

#[test]
fn network_authentication_alone_admits_unauthenticated_clients_of_those_networks() {
    let mut index = index_with_server();
    index.apply_network_authentication(&network_authn("cluster", json!([{"cidr": "10.0.0.0/8"}])));
    index.apply_authorization_policy(&policy(
        "bb-net",
        "bb",
        json!([{"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "cluster"}]),
    ));
    let policy = bb_policy(&index);
    assert_eq!(
        winner(decide(&policy, plain(), "10.1.2.3", "/")),
        "authorizationpolicy/bb-net"
    );
    assert_eq!(winner(decide(&policy, plain(), "8.8.8.8", "/")), "denied");
}

#[test]
fn every_required_authentication_must_match() {
    let mut index = index_with_server();
    index.apply_network_authentication(&network_authn("cluster", json!([{"cidr": "10.0.0.0/8"}])));
    index.apply_authorization_policy(&policy(
        "bb-both",
        "bb",
        json!([
            {"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "cluster"},
            {"kind": "ServiceAccount", "name": "slow-cooker"}
        ]),
    ));
    let policy = bb_policy(&index);
    let inside = decide(&policy, mtls(SLOW_COOKER), "10.1.2.3", "/");
    assert_eq!(winner(inside), "authorizationpolicy/bb-both");
    assert_eq!(
        winner(decide(&policy, mtls(SLOW_COOKER), "8.8.8.8", "/")),
        "denied"
    );
    assert_eq!(winner(decide(&policy, plain(), "10.1.2.3", "/")), "denied");
}

#[test]
fn identity_refs_name_service_accounts_and_namespaces() {
    let mut index = index_with_server();
    let mut authn = meshtls("mc-demo-all", json!(null));
    authn.spec.identities = None;
    authn.spec.identity_refs = Some(vec![strait_api::policy::IdentityRef {
        group: None,
        kind: "Namespace".to_string(),
        name: Some(NS.to_string()),
        namespace: None,
    }]);
    index.apply_meshtls_authentication(&authn);
    index.apply_authorization_policy(&policy("bb-ns", "bb", meshtls_ref("mc-demo-all")));
    let policy = bb_policy(&index);
    assert_eq!(
        winner(decide(&policy, mtls(SLOW_COOKER_EVIL), "10.1.2.3", "/")),
        "authorizationpolicy/bb-ns"
    );
    let other_ns = "web.other.serviceaccount.identity.linkerd.cluster.local";
    assert_eq!(
        winner(decide(&policy, mtls(other_ns), "10.1.2.3", "/")),
        "denied"
    );
}

#[test]
fn a_namespace_target_applies_to_every_server_of_the_namespace() {
    let mut index = index_with_server();
    index.apply_meshtls_authentication(&meshtls("any", json!(["*"])));
    let mut ns_policy = policy("ns-wide", "bb", meshtls_ref("any"));
    ns_policy.spec.target_ref.group = None;
    ns_policy.spec.target_ref.kind = "Namespace".to_string();
    ns_policy.spec.target_ref.name = NS.to_string();
    index.apply_authorization_policy(&ns_policy);
    let policy = bb_policy(&index);
    assert_eq!(
        winner(decide(&policy, mtls(SLOW_COOKER_EVIL), "8.8.8.8", "/")),
        "authorizationpolicy/ns-wide"
    );
    assert_eq!(winner(decide(&policy, plain(), "8.8.8.8", "/")), "denied");
}

/// The reasons the index gives for ignoring resources, kind then reason.
fn reasons(index: &Index) -> Vec<(&'static str, String)> {
    index
        .ignored()
        .into_iter()
        .map(|i| (i.kind, i.reason))
        .collect()
}

#[test]
fn a_malformed_network_is_named_by_its_position() {
    let mut index = index_with_server();
    index.apply_network_authentication(&network_authn(
        "cluster",
        json!([{"cidr": "10.0.0.0/8"}, {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "10.0.0.0/33"]}]),
    ));
    index.apply_authorization_policy(&policy(
        "bb-net",
        "bb",
        json!([{"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "cluster"}]),
    ));
    index.apply_server_authorization(&server_authz(
        "bb-saz",
        json!({"name": "bb"}),
        json!({"unauthenticated": true, "networks": [{"cidr": "nonsense"}]}),
    ));
    let [
        (network_kind, network),
        (policy_kind, policy),
        (saz_kind, saz),
    ] = &reasons(&index)[..]
    else {
        panic!("expected three ignored resources: {:?}", reasons(&index));
    };
    assert_eq!(
        (*network_kind, *policy_kind, *saz_kind),
        (
            "NetworkAuthentication",
            "AuthorizationPolicy",
            "ServerAuthorization"
        )
    );
    assert!(
        network.starts_with("spec.networks[1].except[1]: invalid CIDR \"10.0.0.0/33\""),
        "{network}"
    );
    assert_eq!(
        *policy,
        format!(
            "spec.requiredAuthenticationRefs[0]: NetworkAuthentication {NS}/cluster: {network}"
        )
    );
    assert!(
        saz.starts_with("spec.client.networks[0].cidr: invalid CIDR \"nonsense\""),
        "{saz}"
    );
}

#[test]
fn a_malformed_identity_is_named_by_the_field_it_comes_from() {
    let mut index = index_with_server();
    let mut authn = meshtls("refs", json!([SLOW_COOKER, "web*.example"]));
    authn.spec.identity_refs = Some(vec![strait_api::policy::IdentityRef {
        group: None,
        kind: "Foo".to_string(),
        name: Some("bar".to_string()),
        namespace: None,
    }]);
    index.apply_meshtls_authentication(&authn);
    assert_eq!(
        reasons(&index),
        [(
            "MeshTLSAuthentication",
            "spec.identityRefs[0].kind \"Foo\" is not supported (only ServiceAccount or Namespace)"
                .to_string()
        )]
    );

    authn.spec.identity_refs = None;
    index.apply_meshtls_authentication(&authn);
    let [(_, reason)] = &reasons(&index)[..] else {
        panic!("expected one ignored resource: {:?}", reasons(&index));
    };
    assert!(
        reason.starts_with("spec.identities[1]: invalid identity \"web*.example\""),
        "{reason}"
    );

    index.apply_meshtls_authentication(&meshtls("refs", json!([])));
    assert_eq!(
        reasons(&index),
        [(
            "MeshTLSAuthentication",
            "spec.identities and spec.identityRefs name no identity, so it would admit no one"
                .to_string()
        )]
    );
}

#[test]
fn a_policy_names_the_reference_at_fault() {
    let mut index = index_with_server();
    index.apply_authorization_policy(&policy(
        "bb-twice",
        "bb",
        json!([
            {"kind": "ServiceAccount", "name": "slow-cooker"},
            {"kind": "ServiceAccount", "name": "slow-cooker-evil"}
        ]),
    ));
    index.apply_authorization_policy(&policy(
        "bb-kind",
        "bb",
        json!([{"kind": "Secret", "name": "token"}]),
    ));
    index.apply_authorization_policy(&policy("bb-none", "bb", json!([])));
    index.apply_server_authorization(&server_authz("bb-nobody", json!({"name": "bb"}), json!({})));
    assert_eq!(
        reasons(&index),
        [
            (
                "AuthorizationPolicy",
                "spec.requiredAuthenticationRefs[0].kind \"Secret\" is not supported \
                 (only MeshTLSAuthentication, NetworkAuthentication or ServiceAccount)"
                    .to_string()
            ),
            (
                "AuthorizationPolicy",
                "spec.requiredAuthenticationRefs is empty".to_string()
            ),
            (
                "AuthorizationPolicy",
                "spec.requiredAuthenticationRefs[1]: more than one identity authentication \
                 is required"
                    .to_string()
            ),
            (
                "ServerAuthorization",
                "spec.client is neither unauthenticated nor meshTLS".to_string()
            ),
        ]
    );
}
