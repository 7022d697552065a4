use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{Link, LinkSpec};
use strait_store::Event;

use super::*;

fn link(gateway: bool) -> LinkConfig {
    let mut spec = LinkSpec {
        target_cluster_name: Some("east".into()),
        ..Default::default()
    };
    if gateway {
        spec.gateway_address = Some("192.0.2.1".into());
        spec.gateway_port = Some("4143".into());
        spec.gateway_identity = Some("gw".into());
    }
    let mut link = Link::new("east", spec);
    link.metadata.namespace = Some("linkerd".into());
    LinkConfig::from_link(&link).unwrap()
}

fn service(name: &str, cluster_ip: Option<&str>) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            labels: Some(BTreeMap::from([
                (labels::MIRRORED_SERVICE.to_string(), "true".to_string()),
                (labels::MIRROR_CLUSTER_NAME.to_string(), "east".to_string()),
            ])),
            annotations: Some(BTreeMap::from([(
                labels::REMOTE_SVC_FQ_NAME.to_string(),
                "web.ns.svc.cluster.local".to_string(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: cluster_ip.map(str::to_string),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// Remote Endpoints with ready `(ip, hostname)` and not-ready addresses.
fn remote_endpoints(
    ready: &[(&str, Option<&str>)],
    not_ready: &[(&str, Option<&str>)],
) -> Endpoints {
    let addresses = |list: &[(&str, Option<&str>)]| {
        Some(
            list.iter()
                .map(|(ip, host)| EndpointAddress {
                    ip: ip.to_string(),
                    hostname: host.map(str::to_string),
                    ..EndpointAddress::default()
                })
                .collect(),
        )
    };
    Endpoints {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("ns".into()),
            labels: Some(BTreeMap::from([(
                HEADLESS_LABEL.to_string(),
                String::new(),
            )])),
            ..ObjectMeta::default()
        },
        subsets: Some(vec![EndpointSubset {
            addresses: addresses(ready),
            not_ready_addresses: addresses(not_ready),
            ports: Some(vec![EndpointPort {
                name: Some("http".into()),
                port: 8080,
                ..EndpointPort::default()
            }]),
        }]),
    }
}

#[test]
fn a_remote_headless_service_with_named_members_is_mirrored_headless() {
    let remote = service("web", Some("None"));
    let named = remote_endpoints(&[], &[("10.0.0.1", Some("web-0"))]);
    let mut mirror = service("web-east", None);
    assert!(shape(&mut mirror, &remote, Some(&named), None));
    assert!(is_headless(&mirror));

    // Without names (a Deployment behind it), with a ClusterIP.
    let anonymous = remote_endpoints(&[("10.0.0.1", None)], &[]);
    let mut mirror = service("web-east", None);
    assert!(!shape(&mut mirror, &remote, Some(&anonymous), None));
    assert!(!is_headless(&mirror));
    // ... unless it is headless already: it stays so.
    let existing = service("web-east", Some("None"));
    assert!(shape(
        &mut mirror,
        &remote,
        Some(&anonymous),
        Some(&existing)
    ));
    assert!(must_replace(
        &service("web-east", Some("10.96.0.1")),
        &mirror
    ));
    assert!(!must_replace(&existing, &mirror));

    // A remote Service with a ClusterIP is never mirrored headless.
    let mut mirror = service("web-east", None);
    assert!(!shape(
        &mut mirror,
        &service("web", Some("10.0.0.9")),
        Some(&named),
        None
    ));
}

#[test]
fn a_per_pod_mirror_names_its_remote_pod_and_its_headless_mirror() {
    let mut headless = service("web-east", Some("None"));
    headless
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(labels::REMOTE_DISCOVERY.into(), "east".into());
    let per_pod = pod_mirror(&headless, "web", "web-0", &link(false));
    assert_eq!(per_pod.metadata.name.as_deref(), Some("web-0-east"));
    assert_eq!(per_pod.metadata.namespace.as_deref(), Some("ns"));
    let per_pod_labels = per_pod.metadata.labels.as_ref().unwrap();
    assert_eq!(
        per_pod_labels[labels::MIRRORED_HEADLESS_SVC_NAME],
        "web-east"
    );
    assert_eq!(per_pod_labels[labels::REMOTE_DISCOVERY], "east");
    assert_eq!(
        per_pod.metadata.annotations.as_ref().unwrap()[labels::REMOTE_SVC_FQ_NAME],
        "web-0.web.ns.svc.cluster.local"
    );
    let spec = per_pod.spec.as_ref().unwrap();
    assert_eq!(spec.cluster_ip, None, "a ClusterIP of its own");
    assert_eq!(spec.ports.as_ref().unwrap()[0].port, 8080);
    assert!(is_pod_mirror(&per_pod));
    assert!(is_pod_mirror_of(&per_pod, "web-east"));
    assert!(!is_pod_mirror_of(&per_pod, "db-east"));
    assert!(!is_pod_mirror(&headless));
}

#[test]
fn the_headless_mirrors_endpoints_point_each_ready_hostname_at_its_per_pod_mirror() {
    let remote = remote_endpoints(
        &[
            ("10.0.0.1", Some("web-0")),
            ("10.0.0.2", Some("web-1")),
            ("10.0.0.3", None),
        ],
        &[("10.0.0.4", Some("web-2"))],
    );
    assert_eq!(
        ready_hostnames(&remote).into_iter().collect::<Vec<_>>(),
        vec!["web-0", "web-1"]
    );
    let cluster_ips = BTreeMap::from([
        ("web-0".to_string(), "10.112.0.10".to_string()),
        ("web-1".to_string(), "10.112.0.11".to_string()),
    ]);
    let headless = service("web-east", Some("None"));
    let gateway = link(true).gateway.unwrap();
    let endpoints = headless_endpoints(&headless, &remote, &cluster_ips, Some(&gateway));
    let subset = &endpoints.subsets.as_ref().unwrap()[0];
    let named: Vec<(Option<&str>, &str)> = subset
        .addresses
        .iter()
        .flatten()
        .map(|a| (a.hostname.as_deref(), a.ip.as_str()))
        .collect();
    assert_eq!(
        named,
        vec![
            (Some("web-0"), "10.112.0.10"),
            (Some("web-1"), "10.112.0.11")
        ]
    );
    assert_eq!(subset.ports.as_ref().unwrap()[0].port, 8080);
    assert_eq!(subset.not_ready_addresses, None);
    let annotations = endpoints.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations[labels::REMOTE_GATEWAY_IDENTITY], "gw");
    assert_eq!(
        annotations[labels::REMOTE_SVC_FQ_NAME],
        "web.ns.svc.cluster.local"
    );
    assert_eq!(
        endpoints.metadata.labels.as_ref().unwrap()[labels::MIRRORED_SERVICE],
        "true"
    );
    // Remote discovery: no gateway identity.
    let endpoints = headless_endpoints(&headless, &remote, &cluster_ips, None);
    assert!(
        !endpoints
            .metadata
            .annotations
            .unwrap()
            .contains_key(labels::REMOTE_GATEWAY_IDENTITY)
    );
}

#[test]
fn only_headless_endpoints_are_tracked_and_only_their_changes_reported() {
    let mut tracked = RemoteHeadless::default();
    let web = remote_endpoints(&[("10.0.0.1", Some("web-0"))], &[]);
    let mut bb = remote_endpoints(&[("10.0.0.9", None)], &[]);
    bb.metadata.name = Some("bb".into());
    bb.metadata.labels = None;
    let key = ("ns".to_string(), "web".to_string());
    assert_eq!(
        tracked.take(&Event::Reset(vec![web.clone(), bb.clone()])),
        vec![key.clone()]
    );
    assert!(tracked.get(&key).is_some());
    assert!(tracked.get(&("ns".into(), "bb".into())).is_none());
    assert_eq!(tracked.take(&Event::Apply(web.clone())), Vec::<Key>::new());
    assert_eq!(tracked.take(&Event::Apply(bb)), Vec::<Key>::new());
    let two = remote_endpoints(
        &[("10.0.0.1", Some("web-0")), ("10.0.0.2", Some("web-1"))],
        &[],
    );
    assert_eq!(tracked.take(&Event::Apply(two)), vec![key.clone()]);
    assert_eq!(tracked.take(&Event::Reset(vec![])), vec![key.clone()]);
    assert!(tracked.get(&key).is_none());
}
