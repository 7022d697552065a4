//! A destination server on loopback, fed from `MemoryStore`s, and a tonic
//! client asking as a proxy would.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use linkerd2_proxy_api::destination::tls_identity::Strategy;
use linkerd2_proxy_api::destination::{GetDestination, Update, WeightedAddr, update};
use serde_json::{Value, json};
use strait_destination::{ClusterConfig, ResolutionKey};
use strait_destination_server::{
    DestinationService, SharedClusters, connect_embedded, feed_cluster, follow_remote_clusters,
};
use strait_store::MemoryStore;
use strait_test_support::{eventually_within, objects, within};
use tonic::Streaming;
use tonic::service::Routes;
use tonic::transport::Channel;

// Not every test file applies objects without their status.
#[allow(unused_imports)]
pub use strait_test_support::store::apply;

pub const NS: &str = "mc-demo";
pub const MC_NS: &str = "linkerd-multicluster";
/// The control plane's namespace, where the destination's copy of each
/// Link's credentials Secret is.
pub const CP_NS: &str = "linkerd";
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
/// How often the tests' destination reads every Link's Secret again: well
/// within [`PATIENCE`].
pub const REREAD: std::time::Duration = std::time::Duration::from_millis(200);

/// A cluster of the test: its store and its name in the index.
pub struct Mesh {
    pub west: MemoryStore,
    pub east: MemoryStore,
    pub index: SharedClusters,
    pub client: DestinationClient<Channel>,
    pub addr: SocketAddr,
}

pub async fn delete<K: strait_store::StoredObject>(store: &MemoryStore, name: &str) {
    strait_test_support::store::delete::<K>(store, NS, name).await;
}

pub async fn delete_pod(store: &MemoryStore, name: &str) {
    delete::<Pod>(store, name).await;
}

pub async fn delete_slice(store: &MemoryStore, name: &str) {
    delete::<EndpointSlice>(store, name).await;
}

pub async fn delete_service(store: &MemoryStore, name: &str) {
    delete::<Service>(store, name).await;
}

pub async fn delete_secret(store: &MemoryStore, name: &str) {
    strait_test_support::store::delete::<Secret>(store, CP_NS, name).await;
}

pub async fn delete_link(store: &MemoryStore, name: &str) {
    strait_test_support::store::delete::<strait_api::link::Link>(store, MC_NS, name).await;
}

/// A Service with one port `http` = `port` → `target`.
pub fn service(name: &str, cluster_ip: &str, port: u16, target: u16) -> Value {
    objects::service(NS, name)
        .cluster_ip(cluster_ip)
        .port("http", port, target)
        .build()
}

/// A pod running as service account `sa`, with a proxy when `meshed`.
pub fn pod(name: &str, sa: &str, meshed: bool) -> Value {
    let pod = objects::pod(NS, name)
        .service_account(sa)
        .container("app", &[("http", 8080)]);
    if meshed { pod.meshed() } else { pod }.build()
}

/// An EndpointSlice of `service` with `(ip, pod, ready)` endpoints on port
/// `http` = `port`.
pub fn slice(name: &str, service: &str, port: u16, endpoints: &[(&str, &str, bool)]) -> Value {
    endpoints
        .iter()
        .fold(
            objects::endpoint_slice(NS, name, service),
            |slice, (ip, pod, ready)| slice.endpoint(ip, pod, *ready),
        )
        .port("http", port)
        .build()
}

/// The Link `link-gen` writes in west for `cluster`, naming its
/// credentials Secret.
pub fn link(cluster: &str) -> Value {
    json!({
        "apiVersion": "multicluster.linkerd.io/v1alpha3", "kind": "Link",
        "metadata": {"name": cluster, "namespace": MC_NS},
        "spec": {
            "targetClusterName": cluster,
            "clusterCredentialsSecret": format!("cluster-credentials-{cluster}")
        }
    })
}

/// The destination's copy of the credentials Secret `link-gen` writes in
/// west for `cluster`, in the control plane's namespace.
pub fn credentials(cluster: &str, trust_domain: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {
            "name": format!("cluster-credentials-{cluster}"), "namespace": CP_NS,
            "labels": {"multicluster.linkerd.io/cluster-name": cluster},
            "annotations": {
                "multicluster.linkerd.io/trust-domain": trust_domain,
                "multicluster.linkerd.io/cluster-domain": "cluster.local"
            }
        },
        "type": "mirror.linkerd.io/remote-kubeconfig",
        "data": {"kubeconfig": "YXBpVmVyc2lvbjogdjEK"}
    })
}

/// The remote-discovery mirror of east's `bb` in west, as the service
/// mirror writes it.
pub fn remote_discovery_mirror() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "name": "bb-east", "namespace": NS,
            "labels": {
                "mirror.linkerd.io/mirrored-service": "true",
                "mirror.linkerd.io/cluster-name": "east",
                "multicluster.linkerd.io/remote-discovery": "east",
                "multicluster.linkerd.io/remote-service": "bb"
            },
            "annotations": {"mirror.linkerd.io/remote-svc-fq-name": "bb.mc-demo.svc.cluster.local"}
        },
        "spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}
    })
}

pub fn identity(sa: &str, trust_domain: &str) -> String {
    format!("{sa}.{NS}.serviceaccount.identity.linkerd.{trust_domain}")
}

/// West (local, fed directly) and east (learnt from its Link in west),
/// both empty but for their namespaces, and a client of the server
/// answering for west.
pub async fn start() -> Mesh {
    let west = MemoryStore::new();
    let east = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    for store in [&west, &east] {
        strait_test_support::store::namespaces(store, &[NS, MC_NS, CP_NS]);
    }
    let index = SharedClusters::new();
    index.insert_cluster("west", ClusterConfig::default());
    tokio::spawn(feed_cluster(
        west.clone(),
        "west".to_string(),
        index.clone(),
    ));
    let clusters = Arc::new(BTreeMap::from([("east".to_string(), east.clone())]));
    tokio::spawn(follow_remote_clusters(
        west.clone(),
        MC_NS.to_string(),
        ClusterConfig::default(),
        connect_embedded(clusters),
        index.clone(),
        REREAD,
    ));
    let (client, addr) = serve(index.clone()).await;
    Mesh {
        west,
        east,
        index,
        client,
        addr,
    }
}

/// A server answering for west from `index`, and a client of it.
pub async fn serve(index: SharedClusters) -> (DestinationClient<Channel>, SocketAddr) {
    let service = DestinationService::new(index, "west").into_server();
    let addr = strait_test_support::grpc::serve(Routes::new(service)).await;
    let client = DestinationClient::new(strait_test_support::grpc::channel(addr).await);
    (client, addr)
}

/// Waits until the index resolves `service:port` in west to `count`
/// endpoints (`None`: until the Service exists), so a stream opened next
/// sees the store's contents.
pub async fn settle(index: &SharedClusters, service: &str, port: u16, count: usize) {
    let key = ResolutionKey::new("west", NS, service, port);
    eventually_within(
        PATIENCE,
        format_args!("{service}:{port} having {count} endpoints"),
        async || {
            index
                .read(|c| c.endpoints(&key))
                .is_some_and(|s| s.len() == count)
        },
    )
    .await;
}

pub fn request(path: &str) -> GetDestination {
    GetDestination {
        scheme: "k8s".to_string(),
        path: path.to_string(),
        context_token: json!({"ns": NS, "nodeName": "node-1", "pod": "client-1"}).to_string(),
    }
}

pub async fn get(mesh: &mut Mesh, path: &str) -> Streaming<Update> {
    mesh.client
        .get(request(path))
        .await
        .expect("get")
        .into_inner()
}

/// The next update, within [`PATIENCE`].
pub async fn next(stream: &mut Streaming<Update>) -> Update {
    match within(PATIENCE, "the next update", stream.message()).await {
        Ok(Some(update)) => update,
        Ok(None) => panic!("the stream ended"),
        Err(status) => panic!("the stream failed: {status:?}"),
    }
}

pub fn socket(addr: &WeightedAddr) -> String {
    SocketAddr::try_from(addr.addr.expect("addr"))
        .expect("socket")
        .to_string()
}

/// An update in short form: `+addr,addr` (sorted), `-addr`, `none:<exists>`.
pub fn describe(update: &Update) -> String {
    match update.update.as_ref().expect("update") {
        update::Update::Add(set) => {
            let mut addrs: Vec<String> = set.addrs.iter().map(socket).collect();
            addrs.sort();
            format!("+{}", addrs.join(","))
        }
        update::Update::Remove(set) => {
            let mut addrs: Vec<String> = set
                .addrs
                .iter()
                .map(|a| SocketAddr::try_from(*a).expect("socket").to_string())
                .collect();
            addrs.sort();
            format!("-{}", addrs.join(","))
        }
        update::Update::NoEndpoints(n) => format!("none:{}", n.exists),
    }
}

/// The added endpoints by address, with the set's labels.
pub fn added(update: &Update) -> (BTreeMap<String, WeightedAddr>, HashMap<String, String>) {
    match update.update.as_ref().expect("update") {
        update::Update::Add(set) => (
            set.addrs.iter().map(|a| (socket(a), a.clone())).collect(),
            set.metric_labels.clone(),
        ),
        other => panic!("expected an Add, got {other:?}"),
    }
}

/// The identity an endpoint must present, checked to be spelled the same
/// as strategy and server name.
pub fn tls_name(addr: &WeightedAddr) -> Option<String> {
    let tls = addr.tls_identity.as_ref()?;
    let strategy = match tls.strategy.as_ref() {
        Some(Strategy::DnsLikeIdentity(id)) => id.name.clone(),
        other => panic!("expected a DNS-like identity, got {other:?}"),
    };
    assert_eq!(
        tls.server_name.as_ref().map(|s| s.name.as_str()),
        Some(strategy.as_str())
    );
    Some(strategy)
}

pub fn is_h2(addr: &WeightedAddr) -> bool {
    use linkerd2_proxy_api::destination::protocol_hint::Protocol;
    matches!(
        addr.protocol_hint
            .as_ref()
            .and_then(|h| h.protocol.as_ref()),
        Some(Protocol::H2(_))
    )
}

pub fn labels(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
