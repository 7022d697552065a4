use std::net::SocketAddr;

use k8s_openapi::api::core::v1::Pod;
use strait_api::IntOrString;

use super::*;
use crate::clusters::Clusters;
use crate::config::ClusterConfig;
use crate::fixtures::{endpoints, pod, service};

const NS: &str = "emojivoto";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn with_phase(mut pod: Pod, phase: &str) -> Pod {
    pod.status.get_or_insert_default().phase = Some(phase.into());
    pod
}

fn on_host_network(mut pod: Pod) -> Pod {
    pod.spec.get_or_insert_default().host_network = Some(true);
    pod
}

#[test]
fn a_meshed_pods_address_is_its_service_endpoint() {
    let mut index = ClusterIndex::new(ClusterConfig::default());
    index.apply_service(&service(
        NS,
        "web",
        "10.96.0.20",
        &[("http", 80, IntOrString::Int(8080))],
    ));
    index.apply_pod(&pod(NS, "web-5d8f-a", "10.0.0.1", true, 8080));
    index.apply_endpoints(&endpoints(
        NS,
        "web",
        &[("10.0.0.1", "web-5d8f-a")],
        &[],
        &[("http", 8080)],
    ));
    let by_service = index.local_endpoints(NS, "web", 80).unwrap();
    let by_address = index.address_endpoint(addr("10.0.0.1:8080"));
    assert_eq!(Some(&by_address), by_service.get(&addr("10.0.0.1:8080")));
    assert_eq!(
        by_address.identity.as_deref(),
        Some("emojivoto-sa.emojivoto.serviceaccount.identity.linkerd.cluster.local")
    );
    assert_eq!(by_address.protocol_hint, crate::ProtocolHint::H2);
    assert_eq!(
        by_address.labels.get("deployment").map(String::as_str),
        Some("web")
    );
    // Any port of the pod: the proxy intercepts them all.
    let other_port = index.address_endpoint(addr("10.0.0.1:9090"));
    assert_eq!(other_port.identity, by_address.identity);
    assert_eq!(other_port.address, addr("10.0.0.1:9090"));
}

#[test]
fn unmeshed_unknown_finished_host_network_and_contested_addresses_are_unknown() {
    let mut index = ClusterIndex::new(ClusterConfig::default());
    index.apply_pod(&pod(NS, "legacy-5d8f-a", "10.0.0.2", false, 8080));
    index.apply_pod(&with_phase(
        pod(NS, "job-5d8f-a", "10.0.0.3", true, 8080),
        "Failed",
    ));
    index.apply_pod(&on_host_network(pod(
        NS,
        "agent-5d8f-a",
        "172.18.0.2",
        true,
        8080,
    )));
    index.apply_pod(&pod(NS, "a-5d8f-a", "10.0.0.4", true, 8080));
    index.apply_pod(&pod("other", "b-5d8f-a", "10.0.0.4", true, 8080));
    for address in [
        "10.0.0.2:8080",
        "10.0.0.3:8080",
        "172.18.0.2:8080",
        "10.0.0.4:8080",
        "10.9.9.9:8080",
    ] {
        assert_eq!(
            index.address_endpoint(addr(address)),
            Endpoint::unknown(addr(address)),
            "{address}"
        );
    }
    // The finished pod does not contest its old IP with the pod now there.
    index.apply_pod(&pod(NS, "web-5d8f-a", "10.0.0.3", true, 8080));
    assert!(
        index
            .address_endpoint(addr("10.0.0.3:80"))
            .identity
            .is_some()
    );
    // Once one claimant of a contested IP is gone, the other owns it.
    index.delete_pod("other", "b-5d8f-a");
    assert!(
        index
            .address_endpoint(addr("10.0.0.4:80"))
            .identity
            .is_some()
    );
}

#[test]
fn the_address_follows_pod_updates_deletions_and_resets() {
    let mut index = ClusterIndex::new(ClusterConfig::default());
    let meshed = |name: &str, ip: &str| pod(NS, name, ip, true, 8080);
    index.apply_pod(&meshed("web-5d8f-a", "10.0.0.1"));
    let name =
        |index: &ClusterIndex, a: &str| index.address_endpoint(addr(a)).labels.get("pod").cloned();
    assert_eq!(name(&index, "10.0.0.1:80").as_deref(), Some("web-5d8f-a"));

    // The IP moves to another pod.
    index.apply_pod(&meshed("web-5d8f-a", "10.0.0.5"));
    index.apply_pod(&meshed("db-5d8f-a", "10.0.0.1"));
    assert_eq!(name(&index, "10.0.0.1:80").as_deref(), Some("db-5d8f-a"));
    assert_eq!(name(&index, "10.0.0.5:80").as_deref(), Some("web-5d8f-a"));

    // The pod finishes, then is deleted.
    index.apply_pod(&with_phase(meshed("db-5d8f-a", "10.0.0.1"), "Succeeded"));
    assert_eq!(name(&index, "10.0.0.1:80"), None);
    index.delete_pod(NS, "db-5d8f-a");
    index.delete_pod(NS, "web-5d8f-a");
    assert_eq!(name(&index, "10.0.0.5:80"), None);

    // A restarted watch replaces everything.
    index.apply_pod(&meshed("web-5d8f-a", "10.0.0.5"));
    index.reset_pods([meshed("db-5d8f-a", "10.0.0.6")]);
    assert_eq!(name(&index, "10.0.0.5:80"), None);
    assert_eq!(name(&index, "10.0.0.6:80").as_deref(), Some("db-5d8f-a"));
    assert_eq!(index.pod_ips.len(), 1, "{:?}", index.pod_ips);
}

#[test]
fn a_pod_behind_no_service_moves_the_generation() {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("west", ClusterConfig::default());
    let start = clusters.generation();
    clusters.update("west", |c| {
        c.apply_pod(&pod(NS, "web-5d8f-a", "10.0.0.1", true, 8080))
    });
    assert!(clusters.generation() > start);
    assert!(
        clusters
            .address_endpoint("west", addr("10.0.0.1:80"))
            .identity
            .is_some()
    );
    // The same pod again changes nothing.
    let applied = clusters.generation();
    clusters.update("west", |c| {
        c.apply_pod(&pod(NS, "web-5d8f-a", "10.0.0.1", true, 8080))
    });
    assert_eq!(clusters.generation(), applied);

    clusters.update("west", |c| c.delete_pod(NS, "web-5d8f-a"));
    assert!(clusters.generation() > applied);
    assert_eq!(
        clusters.address_endpoint("west", addr("10.0.0.1:80")),
        Endpoint::unknown(addr("10.0.0.1:80"))
    );

    // A new trust domain respells the identity of every address.
    clusters.update("west", |c| {
        c.apply_pod(&pod(NS, "web-5d8f-a", "10.0.0.1", true, 8080))
    });
    let before = clusters.generation();
    clusters.insert_cluster(
        "west",
        ClusterConfig {
            trust_domain: "west.example".into(),
            ..ClusterConfig::default()
        },
    );
    assert!(clusters.generation() > before);
    assert_eq!(
        clusters
            .address_endpoint("west", addr("10.0.0.1:80"))
            .identity
            .as_deref(),
        Some("emojivoto-sa.emojivoto.serviceaccount.identity.linkerd.west.example")
    );
    assert_eq!(
        clusters.address_endpoint("east", addr("10.0.0.1:80")),
        Endpoint::unknown(addr("10.0.0.1:80"))
    );
}
