//! A linked cluster's endpoints never reach a client before the pods that
//! give them their identities: the first listings of every kind are applied
//! together, as Linkerd's destination waits for its caches to sync.

mod support;

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::Secret;
use strait_destination::ClusterConfig;
use strait_destination_server::{SharedClusters, feed_cluster, follow_remote_clusters};
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, StoredObject, WatchParams};
use support::*;

const EAST_1: &str = "10.245.1.5";
const EAST_TRUST: &str = "east.example";
/// How late east's Pods are listed, behind its other kinds.
const PODS_LATE: Duration = Duration::from_millis(800);

/// East as reached over a slow link where the Pods' listing comes last (a
/// large list, a slow page): every other kind at once.
#[derive(Clone, Debug)]
struct PodsLate(MemoryStore);

impl ClusterStore for PodsLate {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        let inner = self.0.watch::<K>(params);
        if K::kind(&()) != "Pod" {
            return inner;
        }
        futures::stream::once(async move {
            tokio::time::sleep(PODS_LATE).await;
            inner
        })
        .flatten()
        .boxed()
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        self.0.get(namespace, name).await
    }

    async fn apply<K: StoredObject>(&self, object: &K, manager: &str) -> Result<K, StoreError> {
        self.0.apply(object, manager).await
    }

    async fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: serde_json::Value,
    ) -> Result<K, StoreError> {
        self.0.patch_status(namespace, name, status).await
    }

    async fn delete<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<(), StoreError> {
        self.0.delete::<K>(namespace, name).await
    }
}

#[tokio::test]
async fn a_newly_linked_clusters_endpoints_come_with_their_identities() {
    let west = MemoryStore::new();
    let east = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    for store in [&west, &east] {
        strait_test_support::store::namespaces(store, &[NS, MC_NS, CP_NS]);
    }
    apply(&east, service("bb", "10.112.0.10", 8080, 8080));
    apply(&east, pod("bb-1", "bb", true));
    apply(
        &east,
        slice("bb-east-slice", "bb", 8080, &[(EAST_1, "bb-1", true)]),
    );
    apply(&west, remote_discovery_mirror());
    let index = SharedClusters::new();
    index.insert_cluster("west", ClusterConfig::default());
    tokio::spawn(feed_cluster(
        west.clone(),
        "west".to_string(),
        index.clone(),
    ));
    let (client, addr) = serve(index.clone()).await;
    let mut mesh = Mesh {
        west: west.clone(),
        east: east.clone(),
        index: index.clone(),
        client,
        addr,
    };
    // A client asks before east is linked: it is told nothing yet.
    let mut updates = get(&mut mesh, "bb-east.mc-demo.svc.cluster.local:8080").await;
    assert_eq!(describe(&next(&mut updates).await), "none:true");

    let slow_east = PodsLate(east.clone());
    tokio::spawn(follow_remote_clusters(
        west.clone(),
        MC_NS.to_string(),
        ClusterConfig::default(),
        move |_: Secret| std::future::ready(Ok::<_, StoreError>(slow_east.clone())),
        index.clone(),
        REREAD,
    ));
    apply(&west, credentials("east", EAST_TRUST));
    apply(&west, link("east"));

    let first = tokio::time::timeout(PODS_LATE * 4, next(&mut updates))
        .await
        .expect("east's endpoint arrives");
    let (addrs, _) = added(&first);
    let endpoint = &addrs[&format!("{EAST_1}:8080")];
    assert_eq!(
        tls_name(endpoint),
        Some(identity("bb", EAST_TRUST)),
        "the first answer about east's endpoint carries its pod's identity: {}",
        describe(&first)
    );
}
