use super::*;

fn path(group: &str, rest: &[&str]) -> Option<ResourcePath> {
    resource_path(group, "v1", rest)
}

#[test]
fn namespaced_paths_name_their_namespace_resource_and_object() {
    let p = path("", &["namespaces", "mc-demo", "services", "bb", "status"]).unwrap();
    assert_eq!(p.namespace.as_deref(), Some("mc-demo"));
    assert_eq!(p.plural, "services");
    assert_eq!(p.name.as_deref(), Some("bb"));
    assert_eq!(p.subresource.as_deref(), Some("status"));
    let list = path("apps", &["namespaces", "mc-demo", "deployments"]).unwrap();
    assert_eq!((list.plural.as_str(), list.name), ("deployments", None));
}

#[test]
fn namespaces_themselves_are_a_cluster_scoped_resource() {
    let all = path("", &["namespaces"]).unwrap();
    assert_eq!(
        (all.plural.as_str(), all.namespace, all.name),
        ("namespaces", None, None)
    );
    let one = path("", &["namespaces", "mc-demo"]).unwrap();
    assert_eq!(one.plural, "namespaces");
    assert_eq!(one.name.as_deref(), Some("mc-demo"));
    assert_eq!(one.namespace, None);
    let status = path("", &["namespaces", "mc-demo", "status"]).unwrap();
    assert_eq!(status.plural, "namespaces");
    assert_eq!(status.subresource.as_deref(), Some("status"));
    let pods = path("", &["namespaces", "mc-demo", "pods"]).unwrap();
    assert_eq!(pods.namespace.as_deref(), Some("mc-demo"));
}

#[test]
fn cluster_scoped_and_too_long_paths() {
    let crd = path(
        "apiextensions.k8s.io",
        &["customresourcedefinitions", "links.multicluster.linkerd.io"],
    )
    .unwrap();
    assert_eq!(crd.namespace, None);
    assert_eq!(crd.name.as_deref(), Some("links.multicluster.linkerd.io"));
    assert!(path("", &["namespaces", "a", "pods", "b", "log", "extra"]).is_none());
    assert!(path("", &["pods", "b", "log", "extra"]).is_none());
}
