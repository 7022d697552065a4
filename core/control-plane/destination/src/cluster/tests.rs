use std::net::SocketAddr;

use strait_api::IntOrString;

use super::*;
use crate::endpoint::{EndpointSet, ProtocolHint};
use crate::fixtures::{endpoints, pod, service, slice};

const NS: &str = "emojivoto";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// `web` on port 80 → 8080, with a meshed ready pod, an unmeshed ready pod
/// and a meshed pod that is not ready.
fn web_index() -> ClusterIndex {
    let mut index = ClusterIndex::new(ClusterConfig::default());
    index.apply_service(&service(
        NS,
        "web",
        "10.96.0.20",
        &[("http", 80, IntOrString::Int(8080))],
    ));
    index.apply_pod(&pod(NS, "web-5d8f-a", "10.0.0.1", true, 8080));
    index.apply_pod(&pod(NS, "web-5d8f-b", "10.0.0.2", false, 8080));
    index.apply_pod(&pod(NS, "web-5d8f-c", "10.0.0.3", true, 8080));
    index.apply_endpoints(&endpoints(
        NS,
        "web",
        &[("10.0.0.1", "web-5d8f-a"), ("10.0.0.2", "web-5d8f-b")],
        &[("10.0.0.3", "web-5d8f-c")],
        &[("http", 8080)],
    ));
    index
}

#[test]
fn a_service_resolves_to_its_ready_pods_with_identities_of_meshed_ones() {
    let index = web_index();
    let set = index.local_endpoints(NS, "web", 80).unwrap();
    let addrs: Vec<SocketAddr> = set.endpoints.keys().copied().collect();
    assert_eq!(addrs, [addr("10.0.0.1:8080"), addr("10.0.0.2:8080")]);

    let meshed = set.get(&addr("10.0.0.1:8080")).unwrap();
    assert_eq!(
        meshed.identity.as_deref(),
        Some("emojivoto-sa.emojivoto.serviceaccount.identity.linkerd.cluster.local")
    );
    assert_eq!(meshed.protocol_hint, ProtocolHint::H2);
    let label = |k: &str| meshed.labels.get(k).map(String::as_str);
    assert_eq!(label("pod"), Some("web-5d8f-a"));
    assert_eq!(label("namespace"), Some(NS));
    assert_eq!(label("serviceaccount"), Some("emojivoto-sa"));
    assert_eq!(label("replicaset"), Some("web-5d8f"));
    assert_eq!(label("deployment"), Some("web"));

    let plain = set.get(&addr("10.0.0.2:8080")).unwrap();
    assert_eq!(plain.identity, None);
    assert_eq!(plain.protocol_hint, ProtocolHint::Unknown);
}

#[test]
fn identities_follow_the_cluster_configuration() {
    let mut index = web_index();
    index.set_config(ClusterConfig {
        cluster_domain: "cluster.local".into(),
        control_plane_namespace: "strait".into(),
        trust_domain: "west.example".into(),
    });
    let set = index.local_endpoints(NS, "web", 80).unwrap();
    assert_eq!(
        set.get(&addr("10.0.0.1:8080")).unwrap().identity.as_deref(),
        Some("emojivoto-sa.emojivoto.serviceaccount.identity.strait.west.example")
    );
}

#[test]
fn cluster_ips_and_names_resolve_to_service_ports() {
    let index = web_index();
    let web = Target::Service {
        namespace: NS.into(),
        name: "web".into(),
        port: 80,
        hostname: None,
    };
    assert_eq!(index.resolve("10.96.0.20:80", None), Ok(web.clone()));
    assert_eq!(
        index.resolve("web.emojivoto.svc.cluster.local:80", None),
        Ok(web.clone())
    );
    assert_eq!(index.resolve("web:80", Some(NS)), Ok(web));
    assert_eq!(
        index.resolve("10.0.0.1:8080", None),
        Ok(Target::Address(addr("10.0.0.1:8080")))
    );
    assert!(matches!(
        index.resolve("web.emojivoto.svc.other.domain:80", None),
        Err(ResolveError::UnknownDomain { .. })
    ));
}

#[test]
fn a_named_target_port_is_looked_up_on_each_pod() {
    let mut index = ClusterIndex::new(ClusterConfig::default());
    index.apply_service(&service(
        NS,
        "api",
        "10.96.0.30",
        &[("grpc", 9000, IntOrString::String("http".into()))],
    ));
    index.apply_pod(&pod(NS, "api-7c9d-a", "10.0.1.1", true, 8080));
    index.apply_pod(&pod(NS, "api-7c9d-b", "10.0.1.2", true, 9090));
    index.apply_endpoints(&endpoints(
        NS,
        "api",
        &[("10.0.1.1", "api-7c9d-a"), ("10.0.1.2", "api-7c9d-b")],
        &[],
        &[("grpc", 8080)],
    ));
    let set = index.local_endpoints(NS, "api", 9000).unwrap();
    let addrs: Vec<SocketAddr> = set.endpoints.keys().copied().collect();
    assert_eq!(addrs, [addr("10.0.1.1:8080"), addr("10.0.1.2:9090")]);
}

#[test]
fn endpoint_slices_are_preferred_over_endpoints() {
    let mut index = web_index();
    index.apply_endpoint_slice(&slice(
        NS,
        "web-abcde",
        "web",
        &[
            ("10.0.0.3", "web-5d8f-c", true),
            ("10.0.0.2", "web-5d8f-b", false),
        ],
        &[("http", 8080)],
    ));
    // A slice of another Service is not read.
    index.apply_endpoint_slice(&slice(
        NS,
        "emoji-xyz",
        "emoji",
        &[("10.0.0.9", "emoji-1", true)],
        &[("http", 8080)],
    ));
    let set = index.local_endpoints(NS, "web", 80).unwrap();
    let addrs: Vec<SocketAddr> = set.endpoints.keys().copied().collect();
    assert_eq!(addrs, [addr("10.0.0.3:8080")]);

    index.delete_endpoint_slice(NS, "web-abcde");
    let set = index.local_endpoints(NS, "web", 80).unwrap();
    assert_eq!(set.len(), 2, "back to the Endpoints once no slice is left");
}

#[test]
fn no_endpoints_is_an_empty_set_and_no_service_is_none() {
    let mut index = ClusterIndex::new(ClusterConfig::default());
    index.apply_service(&service(
        NS,
        "vote",
        "10.96.0.40",
        &[("", 80, IntOrString::Int(80))],
    ));
    assert_eq!(
        index.local_endpoints(NS, "vote", 80),
        Some(EndpointSet::default())
    );
    assert_eq!(index.local_endpoints(NS, "missing", 80), None);
}

#[test]
fn only_real_changes_mark_namespaces() {
    let mut index = web_index();
    assert_eq!(
        index.take_changed_namespaces(),
        BTreeSet::from([NS.to_string()])
    );
    index.apply_pod(&pod(NS, "web-5d8f-a", "10.0.0.1", true, 8080));
    assert!(index.take_changed_namespaces().is_empty());
    index.reset_pods([pod("other", "x-1-a", "10.0.9.1", false, 80)]);
    assert_eq!(
        index.take_changed_namespaces(),
        BTreeSet::from([NS.to_string(), "other".to_string()])
    );
}

/// `web_index` with `annotation` on the Service (when given) and on pod
/// `web-5d8f-a` (when given).
fn opaque_web_index(service_ports: Option<&str>, pod_ports: Option<&str>) -> ClusterIndex {
    let mut index = web_index();
    let annotate = |meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                    ports: &str| {
        meta.annotations
            .get_or_insert_with(Default::default)
            .insert(
                strait_api::ports::OPAQUE_PORTS_ANNOTATION.to_string(),
                ports.to_string(),
            );
    };
    if let Some(ports) = service_ports {
        let mut web = service(
            NS,
            "web",
            "10.96.0.20",
            &[("http", 80, IntOrString::Int(8080))],
        );
        annotate(&mut web.metadata, ports);
        index.apply_service(&web);
    }
    if let Some(ports) = pod_ports {
        let mut web = pod(NS, "web-5d8f-a", "10.0.0.1", true, 8080);
        annotate(&mut web.metadata, ports);
        index.apply_pod(&web);
    }
    index
}

#[test]
fn meshed_endpoints_of_a_port_the_service_marks_opaque_get_opaque_transport() {
    let index = opaque_web_index(Some("25,80"), None);
    assert!(index.opaque_port(NS, "web", 80));
    let set = index.local_endpoints(NS, "web", 80).unwrap();
    let meshed = set.get(&addr("10.0.0.1:8080")).unwrap();
    assert!(meshed.opaque);
    assert_eq!(meshed.protocol_hint, ProtocolHint::H2);
    assert_eq!(
        meshed.opaque_transport_port(),
        Some(strait_mesh::ports::INBOUND_PORT)
    );
    // An unmeshed pod has no proxy to read a header: reached directly.
    let plain = set.get(&addr("10.0.0.2:8080")).unwrap();
    assert!(plain.opaque);
    assert_eq!(plain.opaque_transport_port(), None);
}

#[test]
fn the_pods_own_annotation_marks_its_container_port_opaque() {
    let index = opaque_web_index(None, Some("8080"));
    assert!(!index.opaque_port(NS, "web", 80));
    let set = index.local_endpoints(NS, "web", 80).unwrap();
    let meshed = set.get(&addr("10.0.0.1:8080")).unwrap();
    assert_eq!(
        meshed.opaque_transport_port(),
        Some(strait_mesh::ports::INBOUND_PORT)
    );
    let by_address = index.address_endpoint(addr("10.0.0.1:8080"));
    assert!(by_address.opaque);
    assert!(!index.address_endpoint(addr("10.0.0.1:9090")).opaque);
}

#[test]
fn ports_not_listed_or_unreadable_annotations_are_not_opaque() {
    for (service_ports, pod_ports) in [(Some("81,8080"), None), (Some("80-"), Some("nope"))] {
        let index = opaque_web_index(service_ports, pod_ports);
        assert!(!index.opaque_port(NS, "web", 80));
        let set = index.local_endpoints(NS, "web", 80).unwrap();
        let meshed = set.get(&addr("10.0.0.1:8080")).unwrap();
        assert!(!meshed.opaque, "{service_ports:?} {pod_ports:?}");
        assert_eq!(meshed.opaque_transport_port(), None);
    }
}
