use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn both_forms_name_objects() {
    let pair = |k: &str, n: &str| (k.to_string(), n.to_string());
    assert_eq!(
        parse_targets(&args(&["svc/bb"])).unwrap(),
        vec![pair("svc", "bb")]
    );
    assert_eq!(
        parse_targets(&args(&["deploy", "bb", "cc"])).unwrap(),
        vec![pair("deploy", "bb"), pair("deploy", "cc")]
    );
    assert!(parse_targets(&args(&["svc"])).is_err());
    assert!(parse_targets(&args(&["svc/bb", "cc"])).is_err());
}

#[test]
fn documents_name_what_to_delete() {
    let yaml = "---\napiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  name: target\n  namespace: linkerd\n---\n\
        ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: bb-target\n---\n\
        apiVersion: v1\nkind: List\nitems:\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: controller-target}}\n";
    let requests = parse_documents(yaml, Some("mc-demo")).unwrap();
    let request =
        |kind: &str, group: Option<&str>, namespace: Option<&str>, name: &str| DeleteRequest {
            resource: None,
            kind: kind.into(),
            group: group.map(str::to_string),
            namespace: namespace.map(str::to_string),
            name: name.into(),
        };
    assert_eq!(
        requests,
        vec![
            request(
                "Link",
                Some("multicluster.linkerd.io"),
                Some("linkerd"),
                "target"
            ),
            request("Service", None, Some("mc-demo"), "bb-target"),
            request(
                "ClusterRole",
                Some("rbac.authorization.k8s.io"),
                Some("mc-demo"),
                "controller-target"
            ),
        ]
    );
}

#[test]
fn a_document_without_a_name_is_refused_naming_it() {
    let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {}\n";
    let err = parse_documents(yaml, None).unwrap_err().to_string();
    assert_eq!(err, "document 2: no metadata.name");
    let err = parse_documents("kind: [", None).unwrap_err().to_string();
    assert!(err.starts_with("document 1: not YAML"), "{err}");
}
