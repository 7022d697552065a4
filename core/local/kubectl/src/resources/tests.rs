use super::*;

fn kind(name: &str) -> (String, Option<String>) {
    let r = resolve_resource(name);
    (r.kind, r.group)
}

#[test]
fn short_names_plurals_and_groups_resolve() {
    let service = ("Service".to_string(), None);
    assert_eq!(kind("svc"), service);
    assert_eq!(kind("services"), service);
    assert_eq!(kind("Service"), service);
    assert_eq!(kind("po"), ("Pod".into(), None));
    assert_eq!(kind("deploy"), ("Deployment".into(), Some("apps".into())));
    assert_eq!(
        kind("deployments.apps"),
        ("Deployment".into(), Some("apps".into()))
    );
    assert_eq!(
        kind("links"),
        ("Link".into(), Some("multicluster.linkerd.io".into()))
    );
    assert_eq!(
        kind("servers.policy.linkerd.io"),
        ("Server".into(), Some("policy.linkerd.io".into()))
    );
    assert_eq!(
        kind("authorizationpolicies"),
        (
            "AuthorizationPolicy".into(),
            Some("policy.linkerd.io".into())
        )
    );
    assert_eq!(kind("endpoints"), ("Endpoints".into(), None));
    assert_eq!(
        kind("httproutes.policy.linkerd.io"),
        ("HTTPRoute".into(), Some("policy.linkerd.io".into()))
    );
    assert!(!resolve_resource("ns").namespaced);
    assert_eq!(kind("widgets"), ("widget".into(), None));
}
