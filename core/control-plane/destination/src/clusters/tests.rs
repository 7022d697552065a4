use std::collections::BTreeMap;
use std::net::SocketAddr;

use strait_api::{IntOrString, labels};

use super::*;
use crate::endpoint::ProtocolHint;
use crate::fixtures::{endpoints, pod, remote_discovery_mirror, service};

const NS: &str = "mc-demo";
const EAST_IDENTITY: &str = "mc-demo-sa.mc-demo.serviceaccount.identity.linkerd.east.example";
const GATEWAY_IDENTITY: &str =
    "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn east_config() -> ClusterConfig {
    ClusterConfig {
        trust_domain: "east.example".into(),
        ..ClusterConfig::default()
    }
}

fn bb_endpoints(pods: &[(&str, &str)]) -> k8s_openapi::api::core::v1::Endpoints {
    endpoints(NS, "bb", pods, &[], &[("http", 8080)])
}

/// west mirrors east's `bb` in remote-discovery mode; east runs one bb pod.
fn linked() -> Clusters {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("west", ClusterConfig::default());
    clusters.insert_cluster("east", east_config());
    clusters.update("east", |east| {
        east.apply_service(&service(
            NS,
            "bb",
            "10.97.0.8",
            &[("http", 8080, IntOrString::Int(8080))],
        ));
        east.apply_pod(&pod(NS, "bb-6b7c-a", "10.1.0.5", true, 8080));
        east.apply_endpoints(&bb_endpoints(&[("10.1.0.5", "bb-6b7c-a")]));
    });
    clusters.update("west", |west| {
        west.apply_service(&remote_discovery_mirror(NS, "bb", "east", 8080));
    });
    clusters
}

fn mirror_key() -> ResolutionKey {
    ResolutionKey::new("west", NS, "bb-east", 8080)
}

fn addresses(clusters: &Clusters, key: &ResolutionKey) -> Vec<SocketAddr> {
    let set = clusters.endpoints(key).unwrap();
    set.endpoints.keys().copied().collect()
}

#[test]
fn a_remote_discovery_mirror_resolves_to_the_remote_pods_with_their_identity() {
    let clusters = linked();
    let set = clusters.endpoints(&mirror_key()).unwrap();
    assert_eq!(set.len(), 1);
    let bb = set.get(&addr("10.1.0.5:8080")).unwrap();
    assert_eq!(bb.identity.as_deref(), Some(EAST_IDENTITY));
    assert_eq!(bb.protocol_hint, ProtocolHint::H2);
    assert_eq!(bb.labels.get("pod").map(String::as_str), Some("bb-6b7c-a"));
    assert_eq!(clusters.resolution(&mirror_key()).unwrap().endpoints, set);
}

#[test]
fn a_remote_pod_coming_and_going_moves_the_mirror_generation() {
    let mut clusters = linked();
    let before = clusters.generation();
    assert!(clusters.changed_since(before).is_empty());

    clusters.update("east", |east| {
        east.apply_pod(&pod(NS, "bb-6b7c-b", "10.1.0.6", true, 8080));
        east.apply_endpoints(&bb_endpoints(&[
            ("10.1.0.5", "bb-6b7c-a"),
            ("10.1.0.6", "bb-6b7c-b"),
        ]));
    });
    let added = clusters.generation();
    assert!(added > before);
    assert!(clusters.changed_since(before).contains(&mirror_key()));
    assert_eq!(
        clusters.resolution(&mirror_key()).unwrap().generation,
        added
    );
    assert_eq!(
        addresses(&clusters, &mirror_key()),
        [addr("10.1.0.5:8080"), addr("10.1.0.6:8080")]
    );

    clusters.update("east", |east| {
        east.apply_endpoints(&bb_endpoints(&[("10.1.0.6", "bb-6b7c-b")]));
        east.delete_pod(NS, "bb-6b7c-a");
    });
    assert!(clusters.changed_since(added).contains(&mirror_key()));
    assert_eq!(addresses(&clusters, &mirror_key()), [addr("10.1.0.6:8080")]);
}

#[test]
fn changes_that_alter_nothing_move_no_generation() {
    let mut clusters = linked();
    let before = clusters.generation();
    clusters.update("east", |east| {
        east.apply_endpoints(&bb_endpoints(&[("10.1.0.5", "bb-6b7c-a")]));
        east.apply_service(&service(
            "elsewhere",
            "web",
            "10.97.0.9",
            &[("", 80, IntOrString::Int(80))],
        ));
    });
    assert!(!clusters.changed_since(before).contains(&mirror_key()));
    let local = ResolutionKey::new("east", "elsewhere", "web", 80);
    assert_eq!(clusters.changed_since(before), [local]);
}

#[test]
fn a_mirror_of_an_unknown_cluster_is_empty_until_it_is_linked() {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("west", ClusterConfig::default());
    clusters.update("west", |west| {
        west.apply_service(&remote_discovery_mirror(NS, "bb", "east", 8080));
    });
    assert_eq!(clusters.endpoints(&mirror_key()), Some(Arc::default()));

    let before = clusters.generation();
    clusters.insert_cluster("east", east_config());
    clusters.update("east", |east| {
        east.apply_service(&service(
            NS,
            "bb",
            "10.97.0.8",
            &[("http", 8080, IntOrString::Int(8080))],
        ));
        east.apply_pod(&pod(NS, "bb-6b7c-a", "10.1.0.5", true, 8080));
        east.apply_endpoints(&bb_endpoints(&[("10.1.0.5", "bb-6b7c-a")]));
    });
    assert!(clusters.changed_since(before).contains(&mirror_key()));
    assert_eq!(addresses(&clusters, &mirror_key()), [addr("10.1.0.5:8080")]);

    let linked = clusters.generation();
    clusters.remove_cluster("east");
    assert!(clusters.changed_since(linked).contains(&mirror_key()));
    assert_eq!(clusters.endpoints(&mirror_key()), Some(Arc::default()));
    let east_bb = ResolutionKey::new("east", NS, "bb", 8080);
    assert!(clusters.changed_since(linked).contains(&east_bb));
    assert_eq!(clusters.resolution(&east_bb), None);
}

#[test]
fn a_gateway_mirror_resolves_to_the_gateway_with_its_identity() {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("west", ClusterConfig::default());
    clusters.update("west", |west| {
        let mut mirror = service(
            NS,
            "bb-east",
            "10.96.5.5",
            &[("http", 8080, IntOrString::Int(8080))],
        );
        mirror.metadata.labels = Some(BTreeMap::from([
            (labels::MIRRORED_SERVICE.to_string(), "true".to_string()),
            (labels::MIRROR_CLUSTER_NAME.to_string(), "east".to_string()),
        ]));
        mirror.metadata.annotations = Some(BTreeMap::from([(
            labels::REMOTE_SVC_FQ_NAME.to_string(),
            "bb.mc-demo.svc.cluster.local".to_string(),
        )]));
        west.apply_service(&mirror);
        let mut gateway = endpoints(NS, "bb-east", &[("172.18.0.5", "")], &[], &[("http", 4143)]);
        for address in gateway
            .subsets
            .iter_mut()
            .flatten()
            .flat_map(|s| s.addresses.iter_mut().flatten())
        {
            address.target_ref = None;
        }
        gateway.metadata.annotations = Some(BTreeMap::from([(
            labels::REMOTE_GATEWAY_IDENTITY.to_string(),
            GATEWAY_IDENTITY.to_string(),
        )]));
        west.apply_endpoints(&gateway);
    });
    let set = clusters.endpoints(&mirror_key()).unwrap();
    assert_eq!(set.len(), 1);
    let gateway = set.get(&addr("172.18.0.5:4143")).unwrap();
    assert_eq!(gateway.identity.as_deref(), Some(GATEWAY_IDENTITY));
    assert_eq!(gateway.protocol_hint, ProtocolHint::H2);
    assert_eq!(
        gateway.authority_override.as_deref(),
        Some("bb.mc-demo.svc.cluster.local:8080")
    );
}

#[test]
fn a_deleted_service_is_reported_gone() {
    let mut clusters = linked();
    let before = clusters.generation();
    clusters.update("west", |west| west.delete_service(NS, "bb-east"));
    assert_eq!(clusters.changed_since(before), [mirror_key()]);
    assert_eq!(clusters.resolution(&mirror_key()), None);
    assert_eq!(clusters.endpoints(&mirror_key()), None);
    clusters.forget_removed_until(clusters.generation());
    assert!(clusters.changed_since(before).is_empty());
}

/// west has its own bb and `bb-federated` with members bb (local) and
/// bb@east; east runs one bb pod, west another.
fn federated(members: &[(&str, &str)]) -> k8s_openapi::api::core::v1::Service {
    let mut svc = service(
        NS,
        "bb-federated",
        "10.96.0.50",
        &[("http", 8080, IntOrString::Int(8080))],
    );
    svc.metadata.annotations = Some(
        members
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    svc
}

fn federation() -> Clusters {
    let mut clusters = linked();
    clusters.update("west", |west| {
        west.apply_service(&service(
            NS,
            "bb",
            "10.96.0.8",
            &[("http", 8080, IntOrString::Int(8080))],
        ));
        west.apply_pod(&pod(NS, "bb-west-a", "10.2.0.5", true, 8080));
        west.apply_endpoints(&bb_endpoints(&[("10.2.0.5", "bb-west-a")]));
        west.apply_service(&federated(&[
            (labels::LOCAL_DISCOVERY, "bb"),
            (labels::REMOTE_DISCOVERY, "bb@east"),
        ]));
    });
    clusters
}

fn federated_key() -> ResolutionKey {
    ResolutionKey::new("west", NS, "bb-federated", 8080)
}

#[test]
fn a_federated_service_resolves_to_every_members_pods_with_their_identities() {
    let clusters = federation();
    let set = clusters.endpoints(&federated_key()).unwrap();
    assert_eq!(
        addresses(&clusters, &federated_key()),
        vec![addr("10.1.0.5:8080"), addr("10.2.0.5:8080")]
    );
    let east = set.get(&addr("10.1.0.5:8080")).unwrap();
    assert_eq!(east.identity.as_deref(), Some(EAST_IDENTITY));
    let west = set.get(&addr("10.2.0.5:8080")).unwrap();
    assert_eq!(
        west.identity.as_deref(),
        Some("mc-demo-sa.mc-demo.serviceaccount.identity.linkerd.cluster.local")
    );
    assert_eq!(
        clusters.resolution(&federated_key()).unwrap().endpoints,
        set
    );
}

#[test]
fn members_pods_going_and_members_leaving_move_the_federated_resolution() {
    let mut clusters = federation();
    let before = clusters.generation();
    // east's pod goes: the federated Service keeps west's.
    clusters.update("east", |east| east.apply_endpoints(&bb_endpoints(&[])));
    assert!(clusters.changed_since(before).contains(&federated_key()));
    assert_eq!(
        addresses(&clusters, &federated_key()),
        vec![addr("10.2.0.5:8080")]
    );
    // ...and comes back.
    clusters.update("east", |east| {
        east.apply_endpoints(&bb_endpoints(&[("10.1.0.5", "bb-6b7c-a")]))
    });
    assert_eq!(addresses(&clusters, &federated_key()).len(), 2);

    // The local member leaves: only east's pod is left.
    let before = clusters.generation();
    clusters.update("west", |west| {
        west.apply_service(&federated(&[(labels::REMOTE_DISCOVERY, "bb@east")]))
    });
    assert!(clusters.changed_since(before).contains(&federated_key()));
    assert_eq!(
        addresses(&clusters, &federated_key()),
        vec![addr("10.1.0.5:8080")]
    );

    // east unlinked: its member resolves to nothing.
    clusters.remove_cluster("east");
    assert!(clusters.endpoints(&federated_key()).unwrap().is_empty());
}

#[test]
fn a_member_of_an_unknown_cluster_adds_nothing_until_it_is_linked() {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("west", ClusterConfig::default());
    clusters.update("west", |west| {
        west.apply_service(&federated(&[(
            labels::REMOTE_DISCOVERY,
            "bb@east,bad-entry",
        )]))
    });
    assert!(clusters.endpoints(&federated_key()).unwrap().is_empty());
    clusters.insert_cluster("east", east_config());
    let before = clusters.generation();
    clusters.update("east", |east| {
        east.apply_service(&service(
            NS,
            "bb",
            "10.97.0.8",
            &[("http", 8080, IntOrString::Int(8080))],
        ));
        east.apply_pod(&pod(NS, "bb-6b7c-a", "10.1.0.5", true, 8080));
        east.apply_endpoints(&bb_endpoints(&[("10.1.0.5", "bb-6b7c-a")]));
    });
    assert!(clusters.changed_since(before).contains(&federated_key()));
    assert_eq!(
        addresses(&clusters, &federated_key()),
        vec![addr("10.1.0.5:8080")]
    );
}
