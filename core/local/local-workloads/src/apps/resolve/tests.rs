use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

use super::*;

#[test]
fn service_names_resolve_as_cluster_dns_would() {
    let of = |host| service_of(host, "mc-demo", "cluster.local");
    let bb = Some(("bb".to_string(), "mc-demo".to_string()));
    assert_eq!(of("bb"), bb);
    assert_eq!(of("bb.mc-demo"), bb);
    assert_eq!(of("bb.mc-demo.svc"), bb);
    assert_eq!(of("bb.mc-demo.svc.cluster.local"), bb);
    assert_eq!(of("bb.mc-demo.svc.cluster.local."), bb);
    assert_eq!(of("bb.mc-demo.svc.other.domain"), None);
    assert_eq!(of("example.com.x"), None);
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
    let addrs = ready_addresses([&slice].into_iter(), "http");
    assert_eq!(
        addrs,
        vec![
            "127.1.0.1:8080".parse().unwrap(),
            "127.1.0.2:8080".parse().unwrap()
        ]
    );
    assert!(ready_addresses([&slice].into_iter(), "grpc").is_empty());
}
