use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

use super::*;

#[test]
fn service_names_resolve_as_cluster_dns_would() {
    let of = |host| service_of(host, "mc-demo", "cluster.local");
    let bb = Some(ServiceName {
        service: "bb".into(),
        namespace: "mc-demo".into(),
        hostname: None,
    });
    assert_eq!(of("bb"), bb);
    assert_eq!(of("bb.mc-demo"), bb);
    assert_eq!(of("bb.mc-demo.svc"), bb);
    assert_eq!(of("bb.mc-demo.svc.cluster.local"), bb);
    assert_eq!(of("bb.mc-demo.svc.cluster.local."), bb);
    assert_eq!(of("bb.mc-demo.svc.other.domain"), None);
    assert_eq!(of("example.com.x"), None);
}

#[test]
fn a_pods_name_under_its_service_resolves_to_that_endpoint() {
    let of = |host| service_of(host, "mc-demo", "cluster.local");
    let web_0 = Some(ServiceName {
        service: "web".into(),
        namespace: "mc-demo".into(),
        hostname: Some("web-0".into()),
    });
    assert_eq!(of("web-0.web.mc-demo.svc"), web_0);
    assert_eq!(of("web-0.web.mc-demo.svc.cluster.local"), web_0);
    assert_eq!(of("web-0.web.mc-demo.svc.other.domain"), None);
    assert_eq!(of(".web.mc-demo.svc"), None);
    let slice: EndpointSlice = serde_json::from_value(json!({
        "metadata": {"name": "web-x"},
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["127.1.255.1"], "hostname": "web-0"},
            {"addresses": ["127.1.255.2"], "hostname": "web-1"},
            {"addresses": ["127.1.255.3"]}
        ],
        "ports": [{"name": "http", "port": 8080}]
    }))
    .unwrap();
    assert_eq!(
        ready_addresses([&slice].into_iter(), "http", Some("web-1")),
        vec!["127.1.255.2:8080".parse().unwrap()]
    );
    assert!(ready_addresses([&slice].into_iter(), "http", Some("web-9")).is_empty());
    assert_eq!(ready_addresses([&slice].into_iter(), "http", None).len(), 3);
}

#[test]
fn only_ready_endpoints_of_the_named_port_are_dialled() {
    let slice: EndpointSlice = serde_json::from_value(json!({
        "metadata": {"name": "bb-x"},
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["127.1.0.2"], "conditions": {"ready": true}},
            {"addresses": ["127.1.0.1"]},
            {"addresses": ["127.1.0.3"], "conditions": {"ready": false}}
        ],
        "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9990}]
    }))
    .unwrap();
    let addrs = ready_addresses([&slice].into_iter(), "http", None);
    assert_eq!(
        addrs,
        vec![
            "127.1.0.1:8080".parse().unwrap(),
            "127.1.0.2:8080".parse().unwrap()
        ]
    );
    assert!(ready_addresses([&slice].into_iter(), "grpc", None).is_empty());
}
