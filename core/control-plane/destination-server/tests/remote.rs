//! Remote-discovery and gateway mirrors over a real socket: east learnt
//! from its Link in west and the credentials Secret the Link names.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::Secret;
use serde_json::json;
use std::time::Duration;
use strait_destination::ClusterConfig;

use futures::StreamExt;
use strait_destination_server::{
    DELETED_LINK_GRACE, SharedClusters, feed_cluster, follow_remote_clusters,
};
use strait_store::{MemoryStore, StoreError};
use support::*;

const EAST_1: &str = "10.245.1.5";
const EAST_2: &str = "10.245.1.6";
const EAST_TRUST: &str = "east.example";
const GATEWAY_IDENTITY: &str =
    "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.east.example";

/// East's `bb` with a meshed pod `bb-1` (and `bb-2` when `both`), its
/// mirror in west, and east's credentials Secret and Link in west.
fn link_east(mesh: &Mesh, both: bool) {
    apply(&mesh.east, service("bb", "10.112.0.10", 8080, 8080));
    apply(&mesh.east, pod("bb-1", "bb", true));
    apply(&mesh.east, pod("bb-2", "bb", true));
    let mut endpoints = vec![(EAST_1, "bb-1", true)];
    if both {
        endpoints.push((EAST_2, "bb-2", true));
    }
    apply(&mesh.east, slice("bb-east-slice", "bb", 8080, &endpoints));
    apply(&mesh.west, remote_discovery_mirror());
    apply(&mesh.west, credentials("east", EAST_TRUST));
    apply(&mesh.west, link("east"));
}

#[tokio::test]
async fn a_remote_discovery_mirror_resolves_to_the_remote_pods_with_their_identities() {
    let mut mesh = start().await;
    link_east(&mesh, false);
    settle(&mesh.index, "bb-east", 8080, 1).await;

    let mut updates = get(&mut mesh, "bb-east.mc-demo.svc.cluster.local:8080").await;
    let first = next(&mut updates).await;
    let (addrs, set_labels) = added(&first);
    assert_eq!(
        set_labels,
        labels(&[("namespace", NS), ("service", "bb-east")])
    );
    assert_eq!(
        addrs.keys().cloned().collect::<Vec<_>>(),
        [format!("{EAST_1}:8080")]
    );
    let remote = &addrs[&format!("{EAST_1}:8080")];
    assert_eq!(tls_name(remote), Some(identity("bb", EAST_TRUST)));
    assert!(is_h2(remote));
    assert_eq!(remote.weight, 10_000);
    assert_eq!(remote.authority_override, None);
    assert_eq!(
        remote.metric_labels,
        labels(&[("pod", "bb-1"), ("namespace", NS), ("serviceaccount", "bb")])
    );

    // A remote pod is added.
    apply(
        &mesh.east,
        slice(
            "bb-east-slice",
            "bb",
            8080,
            &[(EAST_1, "bb-1", true), (EAST_2, "bb-2", true)],
        ),
    );
    let more = next(&mut updates).await;
    assert_eq!(describe(&more), format!("+{EAST_2}:8080"));
    let (addrs, _) = added(&more);
    assert_eq!(
        tls_name(&addrs[&format!("{EAST_2}:8080")]),
        Some(identity("bb", EAST_TRUST))
    );

    // A remote pod is removed.
    apply(
        &mesh.east,
        slice("bb-east-slice", "bb", 8080, &[(EAST_2, "bb-2", true)]),
    );
    assert_eq!(
        describe(&next(&mut updates).await),
        format!("-{EAST_1}:8080")
    );

    // The Secret deleted: unlinked at the next read; the mirror exists but
    // resolves to nothing.
    delete_secret(&mesh.west, "cluster-credentials-east").await;
    assert_eq!(describe(&next(&mut updates).await), "none:true");
    assert!(mesh.index.read(|c| c.cluster("east").is_none()));

    // Linked again once the Link's Secret is back.
    apply(&mesh.west, credentials("east", EAST_TRUST));
    assert_eq!(
        describe(&next(&mut updates).await),
        format!("+{EAST_2}:8080")
    );

    // The Link deleted and created again within the grace: still linked,
    // nothing sent to the stream.
    delete_link(&mesh.west, "east").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    apply(&mesh.west, link("east"));
    let quiet =
        tokio::time::timeout(DELETED_LINK_GRACE + Duration::from_secs(1), updates.next()).await;
    assert!(
        quiet.is_err(),
        "a Link re-created within the grace changed the endpoints: {quiet:?}"
    );
    assert!(mesh.index.read(|c| c.cluster("east").is_some()));

    // The Link deleted for good: unlinked after the grace, though its
    // Secret stays.
    delete_link(&mesh.west, "east").await;
    assert!(
        mesh.index.read(|c| c.cluster("east").is_some()),
        "kept during the grace"
    );
    tokio::time::sleep(DELETED_LINK_GRACE).await;
    let gone = next(&mut updates).await;
    assert_eq!(describe(&gone), "none:true");
    assert!(mesh.index.read(|c| c.cluster("east").is_none()));

    // And linked again with the Link.
    apply(&mesh.west, link("east"));
    assert_eq!(
        describe(&next(&mut updates).await),
        format!("+{EAST_2}:8080")
    );
}

#[tokio::test]
async fn a_changed_secret_reconnects_with_its_new_trust_domain() {
    let mut mesh = start().await;
    link_east(&mesh, true);
    settle(&mesh.index, "bb-east", 8080, 2).await;
    let mut updates = get(&mut mesh, "bb-east.mc-demo:8080").await;
    let (addrs, _) = added(&next(&mut updates).await);
    assert_eq!(
        tls_name(&addrs[&format!("{EAST_1}:8080")]),
        Some(identity("bb", EAST_TRUST))
    );

    // Rotated: the Link is unchanged, its Secret is read again by name.
    apply(&mesh.west, credentials("east", "east.other"));
    let renamed = next(&mut updates).await;
    assert_eq!(describe(&renamed), format!("+{EAST_1}:8080,{EAST_2}:8080"));
    let (addrs, _) = added(&renamed);
    for addr in addrs.values() {
        assert_eq!(tls_name(addr), Some(identity("bb", "east.other")));
    }
}

#[tokio::test]
async fn a_gateway_mirror_resolves_to_the_gateway_with_an_authority_override() {
    let mut mesh = start().await;
    apply(
        &mesh.west,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": "web-east", "namespace": NS,
                "labels": {"mirror.linkerd.io/mirrored-service": "true",
                           "mirror.linkerd.io/cluster-name": "east"},
                "annotations": {"mirror.linkerd.io/remote-svc-fq-name": "web.mc-demo.svc.cluster.local"}
            },
            "spec": {"clusterIP": "10.96.0.30", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        }),
    );
    apply(
        &mesh.west,
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {
                "name": "web-east", "namespace": NS,
                "annotations": {"mirror.linkerd.io/remote-gateway-identity": GATEWAY_IDENTITY}
            },
            "subsets": [{"addresses": [{"ip": "172.18.0.5"}], "ports": [{"name": "http", "port": 4143}]}]
        }),
    );
    settle(&mesh.index, "web-east", 80, 1).await;

    let mut updates = get(&mut mesh, "web-east.mc-demo.svc.cluster.local:80").await;
    let (addrs, set_labels) = added(&next(&mut updates).await);
    assert_eq!(
        set_labels,
        labels(&[("namespace", NS), ("service", "web-east")])
    );
    assert_eq!(
        addrs.keys().cloned().collect::<Vec<_>>(),
        ["172.18.0.5:4143"]
    );
    let gateway = &addrs["172.18.0.5:4143"];
    assert_eq!(tls_name(gateway).as_deref(), Some(GATEWAY_IDENTITY));
    assert!(is_h2(gateway));
    assert_eq!(
        gateway
            .authority_override
            .as_ref()
            .map(|a| a.authority_override.as_str()),
        Some("web.mc-demo.svc.cluster.local:80")
    );
}

#[tokio::test]
async fn an_unreachable_cluster_is_retried_and_leaves_the_others_alone() {
    let west = MemoryStore::new();
    let east = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    let mesh_stub = |store: &MemoryStore| {
        for ns in [NS, MC_NS, CP_NS] {
            apply(
                store,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            );
        }
    };
    mesh_stub(&west);
    mesh_stub(&east);
    let index = SharedClusters::new();
    index.insert_cluster("west", ClusterConfig::default());
    tokio::spawn(feed_cluster(
        west.clone(),
        "west".to_string(),
        index.clone(),
    ));

    // "north" cannot be reached at first; "east" always can.
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let stores = Arc::new(BTreeMap::from([
        ("east".to_string(), east.clone()),
        ("north".to_string(), east.clone()),
    ]));
    let connect = move |secret: Secret| {
        let cluster = secret
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("multicluster.linkerd.io/cluster-name"))
            .cloned()
            .unwrap_or_default();
        let result = if cluster == "north" && counted.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(StoreError::Unavailable {
                reason: "connection refused".into(),
            })
        } else {
            stores.get(&cluster).cloned().ok_or(StoreError::NotFound {
                what: cluster.clone(),
            })
        };
        std::future::ready(result)
    };
    tokio::spawn(follow_remote_clusters(
        west.clone(),
        MC_NS.to_string(),
        ClusterConfig::default(),
        connect,
        index.clone(),
        REREAD,
    ));
    let (mut client, _) = serve(index.clone()).await;

    apply(&east, service("bb", "10.112.0.10", 8080, 8080));
    apply(&east, pod("bb-1", "bb", true));
    apply(
        &east,
        slice("bb-east-slice", "bb", 8080, &[(EAST_1, "bb-1", true)]),
    );
    apply(&west, credentials("north", "north.example"));
    apply(&west, credentials("east", EAST_TRUST));
    apply(&west, link("north"));
    apply(&west, link("east"));
    let mut north_mirror = remote_discovery_mirror();
    north_mirror["metadata"]["name"] = json!("bb-north");
    north_mirror["metadata"]["labels"]["multicluster.linkerd.io/remote-discovery"] = json!("north");
    north_mirror["spec"]["clusterIP"] = json!("10.96.0.21");
    apply(&west, north_mirror);
    apply(&west, remote_discovery_mirror());

    // East resolves while north is still failing.
    settle(&index, "bb-east", 8080, 1).await;
    let mut north = client
        .get(request("bb-north.mc-demo:8080"))
        .await
        .expect("get north")
        .into_inner();
    let first = next(&mut north).await;
    // North resolves after its retry, with north's identities.
    let resolved = if describe(&first) == "none:true" {
        next(&mut north).await
    } else {
        first
    };
    assert_eq!(describe(&resolved), format!("+{EAST_1}:8080"));
    let (addrs, _) = added(&resolved);
    assert_eq!(
        tls_name(&addrs[&format!("{EAST_1}:8080")]),
        Some(identity("bb", "north.example"))
    );
    // One refused attempt, then the retry that linked it.
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    let east_set = index.read(|c| {
        c.endpoints(&strait_destination::ResolutionKey::new(
            "west", NS, "bb-east", 8080,
        ))
    });
    assert_eq!(east_set.map(|s| s.len()), Some(1));
}
