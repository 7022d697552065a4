use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::json;

use super::*;

fn service(ports: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "bb", "namespace": "mc-demo", "uid": "svc-uid"},
        "spec": {"selector": {"app": "bb"}, "ports": ports}
    }))
    .unwrap()
}

fn pod(name: &str, app: &str, ip: Option<&str>, ready: bool) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "mc-demo", "uid": format!("{name}-uid"),
                     "labels": {"app": app}},
        "spec": {"containers": [{"name": "terminus",
                                 "ports": [{"name": "web", "containerPort": 8080}]}]},
        "status": {"podIP": ip, "conditions": [
            {"type": "Ready", "status": if ready { "True" } else { "False" }}
        ]}
    }))
    .unwrap()
}

#[test]
fn selected_pods_with_addresses_are_listed_with_their_readiness() {
    let svc = service(json!([{"name": "http", "port": 8080, "targetPort": 8080}]));
    let pods = [
        pod("bb-2", "bb", Some("127.1.0.2"), false),
        pod("bb-1", "bb", Some("127.1.0.1"), true),
        pod("bb-3", "bb", None, false),
        pod("other", "other", Some("127.1.0.9"), true),
    ];
    let (slice, endpoints) = endpoints_for(&svc, pods.iter());
    assert_eq!(slice.metadata.name, Some(slice_name("bb", "mc-demo")));
    assert!(slice.metadata.name.as_deref().unwrap().starts_with("bb-"));
    assert_eq!(
        slice.metadata.labels.as_ref().unwrap()[SERVICE_NAME_LABEL],
        "bb"
    );
    let listed: Vec<(String, Option<bool>, Option<String>)> = slice
        .endpoints
        .iter()
        .flatten()
        .map(|e| {
            (
                e.addresses[0].clone(),
                e.conditions.as_ref().unwrap().ready,
                e.target_ref.as_ref().unwrap().name.clone(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("127.1.0.1".into(), Some(true), Some("bb-1".into())),
            ("127.1.0.2".into(), Some(false), Some("bb-2".into())),
        ]
    );
    let ports = slice.ports.as_ref().unwrap();
    assert_eq!(
        (ports[0].name.as_deref(), ports[0].port),
        (Some("http"), Some(8080))
    );
    let subset = &endpoints.subsets.as_ref().unwrap()[0];
    assert_eq!(subset.addresses.as_ref().unwrap()[0].ip, "127.1.0.1");
    assert_eq!(
        subset.not_ready_addresses.as_ref().unwrap()[0].ip,
        "127.1.0.2"
    );
}

#[test]
fn named_and_missing_target_ports_resolve_to_container_ports() {
    let svc = service(json!([
        {"name": "a", "port": 80, "targetPort": "web"},
        {"name": "b", "port": 9000}
    ]));
    let pods = [pod("bb-1", "bb", Some("127.1.0.1"), true)];
    let (slice, _) = endpoints_for(&svc, pods.iter());
    let ports: Vec<_> = slice
        .ports
        .unwrap()
        .into_iter()
        .map(|p| (p.name.unwrap(), p.port.unwrap()))
        .collect();
    assert_eq!(ports, vec![("a".into(), 8080), ("b".into(), 9000)]);

    let unresolvable = service(json!([{"name": "a", "port": 80, "targetPort": "grpc"}]));
    let (slice, endpoints) = endpoints_for(&unresolvable, pods.iter());
    assert!(slice.endpoints.unwrap().is_empty());
    assert!(endpoints.subsets.is_none());
}

#[test]
fn slice_names_are_stable_per_service() {
    assert_eq!(slice_name("bb", "mc-demo"), slice_name("bb", "mc-demo"));
    assert_ne!(slice_name("bb", "mc-demo"), slice_name("bb", "other"));
}

#[test]
fn a_headless_services_endpoints_carry_each_members_hostname() {
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "mc-demo", "uid": "svc-uid"},
        "spec": {"clusterIP": "None", "selector": {"app": "web"},
                 "ports": [{"name": "http", "port": 8080}]}
    }))
    .unwrap();
    let member = |name: &str, ip: &str, subdomain: &str| {
        let mut pod = pod(name, "web", Some(ip), true);
        let spec = pod.spec.as_mut().unwrap();
        spec.hostname = Some(name.into());
        spec.subdomain = Some(subdomain.into());
        pod
    };
    let pods = [
        member("web-0", "127.1.255.1", "web"),
        member("web-1", "127.1.255.2", "web"),
        // Its subdomain names another Service: no hostname under this one.
        member("stray-0", "127.1.255.3", "other"),
    ];
    let (slice, endpoints) = endpoints_for(&svc, pods.iter());
    let hostnames: Vec<(String, Option<String>)> = slice
        .endpoints
        .iter()
        .flatten()
        .map(|e| (e.addresses[0].clone(), e.hostname.clone()))
        .collect();
    assert_eq!(
        hostnames,
        vec![
            ("127.1.255.3".into(), None),
            ("127.1.255.1".into(), Some("web-0".into())),
            ("127.1.255.2".into(), Some("web-1".into())),
        ]
    );
    let addresses = endpoints.subsets.as_ref().unwrap()[0]
        .addresses
        .as_ref()
        .unwrap();
    assert_eq!(addresses[0].hostname, None);
    assert_eq!(addresses[1].hostname.as_deref(), Some("web-0"));
    for labels in [&slice.metadata.labels, &endpoints.metadata.labels] {
        assert_eq!(
            labels
                .as_ref()
                .unwrap()
                .get(HEADLESS_LABEL)
                .map(String::as_str),
            Some("")
        );
    }
}

#[test]
fn a_service_with_a_cluster_ip_is_not_labelled_headless() {
    let svc = service(json!([{"name": "http", "port": 8080}]));
    let (slice, endpoints) = endpoints_for(&svc, std::iter::empty());
    assert!(!slice.metadata.labels.unwrap().contains_key(HEADLESS_LABEL));
    assert!(
        !endpoints
            .metadata
            .labels
            .unwrap_or_default()
            .contains_key(HEADLESS_LABEL)
    );
}
