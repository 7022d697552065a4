use super::*;

#[test]
fn kinds_are_named_as_kubectl_names_them() {
    assert_eq!(kind_name("", "Service"), "service");
    assert_eq!(kind_name("apps", "Deployment"), "deployment.apps");
    assert_eq!(
        kind_name("policy.linkerd.io", "Server"),
        "server.policy.linkerd.io"
    );
    let link = ObjectId {
        group: "multicluster.linkerd.io".into(),
        kind: "Link".into(),
        namespace: Some("linkerd".into()),
        name: "target".into(),
    };
    assert_eq!(object_name(&link), "link.multicluster.linkerd.io/target");
}
