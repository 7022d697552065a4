use super::*;

#[test]
fn the_identities_are_spelled_as_the_identity_service_issues_them() {
    assert_eq!(identity("slow-cooker", NS), SLOW_COOKER);
    assert_eq!(identity("slow-cooker-evil", NS), EVIL);
    assert_eq!(identity("bb", NS), BB_IDENTITY);
    assert_eq!(
        identity("linkerd-gateway", "linkerd-multicluster"),
        "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local"
    );
}

#[test]
fn bbs_authority_is_its_service_name_and_port() {
    assert_eq!(BB_AUTHORITY, format!("bb.{NS}.svc.cluster.local:{BB_PORT}"));
}

#[test]
fn the_workload_is_the_json_the_policy_service_reads() {
    let parsed: serde_json::Value =
        serde_json::from_str(&workload(NS, "bb-1")).expect("the workload is JSON");
    assert_eq!(parsed, serde_json::json!({"ns": "mc-demo", "pod": "bb-1"}));
}

#[test]
fn step_six_admits_slow_cooker_to_bb_on_the_port_given() {
    let [server, authz, authn] = policy(9999);
    assert_eq!(server["kind"], "Server");
    assert_eq!(server["spec"]["port"], 9999);
    assert_eq!(server["spec"]["podSelector"]["matchLabels"]["app"], "bb");
    assert_eq!(
        authz["spec"]["targetRef"]["name"],
        server["metadata"]["name"]
    );
    assert_eq!(
        authz["spec"]["requiredAuthenticationRefs"][0]["name"],
        authn["metadata"]["name"]
    );
    assert_eq!(
        authn["spec"]["identities"],
        serde_json::json!([SLOW_COOKER])
    );
}
