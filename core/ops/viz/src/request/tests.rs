use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[test]
fn resources_are_read_as_linkerd_viz_reads_them() {
    for (text, kind, name) in [
        ("deploy", ResourceKind::Deployment, None),
        ("deployments", ResourceKind::Deployment, None),
        ("deploy/bb", ResourceKind::Deployment, Some("bb")),
        ("deployment bb", ResourceKind::Deployment, Some("bb")),
        ("po", ResourceKind::Pod, None),
        ("pods/bb-1", ResourceKind::Pod, Some("bb-1")),
        ("pod/", ResourceKind::Pod, None),
        ("rs/bb-5d4f", ResourceKind::ReplicaSet, Some("bb-5d4f")),
        ("replicasets", ResourceKind::ReplicaSet, None),
        ("sts/web", ResourceKind::StatefulSet, Some("web")),
        ("statefulset", ResourceKind::StatefulSet, None),
        ("ns", ResourceKind::Namespace, None),
        (
            "namespace/mc-demo",
            ResourceKind::Namespace,
            Some("mc-demo"),
        ),
        ("svc/bb", ResourceKind::Service, Some("bb")),
        ("services", ResourceKind::Service, None),
    ] {
        let (got_kind, got_name) = parse_resource(&words(text)).unwrap();
        assert_eq!(got_kind, kind, "{text}");
        assert_eq!(got_name.as_deref(), name, "{text}");
    }
}

#[test]
fn other_resources_are_refused_by_name() {
    let error = parse_resource(&words("cronjob/bb"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("\"cronjob\""), "{error}");
    assert!(error.contains("deploy, po, rs, sts, ns or svc"), "{error}");
    let error = parse_resource(&words("deploy bb extra"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("deploy bb extra"), "{error}");
    assert!(parse_resource(&[]).is_err());
}

#[test]
fn a_pod_is_described_from_its_owner_containers_and_conditions() {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {
            "name": "bb-abc-x1", "namespace": "mc-demo",
            "labels": {"pod-template-hash": "abc"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "bb-abc", "uid": "1", "controller": true}]
        },
        "spec": {"containers": [{"name": "bb"}, {"name": "linkerd-proxy"}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}
    }))
    .unwrap();
    assert_eq!(
        PodInfo::of(&pod),
        PodInfo {
            namespace: "mc-demo".into(),
            name: "bb-abc-x1".into(),
            deployment: Some("bb".into()),
            replicaset: Some("bb-abc".into()),
            statefulset: None,
            meshed: true,
            ready: true,
        }
    );
}

fn request(report: Report) -> Request {
    Request {
        report,
        query: Query {
            namespace: Some("mc-demo".into()),
            resource: ResourceKind::Deployment,
            name: None,
            window: Duration::from_secs(60),
        },
        output: Output::Table,
    }
}

#[test]
fn with_no_scrapes_stat_finds_no_traffic_and_authz_prints_its_header() {
    assert_eq!(
        request(Report::Stat).answer_from_scrapes(&[], &[]),
        crate::NO_TRAFFIC
    );
    let authz = request(Report::Authz).answer_from_scrapes(&[], &[]);
    assert_eq!(authz.lines().count(), 1, "{authz}");
    assert!(authz.starts_with("ROUTE"), "{authz}");
}
