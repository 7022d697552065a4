//! A federated Service over a real socket: `bb-federated` in west resolves
//! to west's own bb pod and east's, each with its cluster's identity, and
//! a stream follows members' pods and members as they come and go.

mod support;

use serde_json::json;
use support::*;

const WEST_1: &str = "10.244.0.7";
const EAST_1: &str = "10.245.1.5";
const EAST_TRUST: &str = "east.example";

/// West's federated Service as the service mirror writes it, with these
/// discovery annotations.
fn bb_federated(annotations: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "name": "bb-federated", "namespace": NS,
            "labels": {"mirror.linkerd.io/mirrored-service": "true"},
            "annotations": annotations
        },
        "spec": {"clusterIP": "10.96.0.30", "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}
    })
}

#[tokio::test]
async fn a_federated_service_streams_every_members_pods_as_they_come_and_go() {
    let mut mesh = start().await;
    apply(&mesh.west, service("bb", "10.96.0.10", 8080, 8080));
    apply(&mesh.west, pod("bb-west", "bb", true));
    apply(
        &mesh.west,
        slice("bb-west-slice", "bb", 8080, &[(WEST_1, "bb-west", true)]),
    );
    apply(&mesh.east, service("bb", "10.112.0.10", 8080, 8080));
    apply(&mesh.east, pod("bb-1", "bb", true));
    apply(
        &mesh.east,
        slice("bb-east-slice", "bb", 8080, &[(EAST_1, "bb-1", true)]),
    );
    apply(&mesh.west, credentials("east", EAST_TRUST));
    apply(&mesh.west, link("east"));
    apply(
        &mesh.west,
        bb_federated(json!({
            "multicluster.linkerd.io/local-discovery": "bb",
            "multicluster.linkerd.io/remote-discovery": "bb@east"
        })),
    );
    settle(&mesh.index, "bb-federated", 8080, 2).await;

    let mut updates = get(&mut mesh, "bb-federated.mc-demo.svc.cluster.local:8080").await;
    let first = next(&mut updates).await;
    assert_eq!(describe(&first), format!("+{WEST_1}:8080,{EAST_1}:8080"));
    let (addrs, _) = added(&first);
    assert_eq!(
        tls_name(&addrs[&format!("{EAST_1}:8080")]),
        Some(identity("bb", EAST_TRUST))
    );
    assert_eq!(
        tls_name(&addrs[&format!("{WEST_1}:8080")]),
        Some(identity("bb", "cluster.local"))
    );

    // East's pod goes away and comes back: a Remove, then an Add.
    apply(&mesh.east, slice("bb-east-slice", "bb", 8080, &[]));
    assert_eq!(
        describe(&next(&mut updates).await),
        format!("-{EAST_1}:8080")
    );
    apply(
        &mesh.east,
        slice("bb-east-slice", "bb", 8080, &[(EAST_1, "bb-1", true)]),
    );
    assert_eq!(
        describe(&next(&mut updates).await),
        format!("+{EAST_1}:8080")
    );

    // The local member leaves the federated Service.
    apply(
        &mesh.west,
        bb_federated(json!({"multicluster.linkerd.io/remote-discovery": "bb@east"})),
    );
    assert_eq!(
        describe(&next(&mut updates).await),
        format!("-{WEST_1}:8080")
    );
}
