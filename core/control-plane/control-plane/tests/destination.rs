//! The destination service as the control plane assembles it: west's plane
//! on one address, east reached through its Link and credentials Secret in
//! west, as the embedded runtime runs two clusters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use linkerd2_proxy_api::destination::update::Update as Kind;
use linkerd2_proxy_api::destination::{GetDestination, Update};
use linkerd2_proxy_api::net::ip_address::Ip;
use serde_json::{Value, json};
use strait_control_plane::{ControlPlane, RunningControlPlane};
use strait_destination::ClusterConfig;
use strait_destination_server::connect_embedded;
use strait_store::MemoryStore;
use strait_test_support::store::apply;
use tonic::Streaming;
use tonic::transport::Channel;

const NS: &str = "mc-demo";
const PATIENCE: Duration = Duration::from_secs(5);

fn cluster() -> MemoryStore {
    let store = MemoryStore::new();
    for ns in [NS, "linkerd", "linkerd-multicluster"] {
        apply(
            &store,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        );
    }
    store
}

fn service(name: &str, ip: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}
    })
}

fn meshed_pod(name: &str, sa: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"serviceAccountName": sa, "containers": [
            {"name": "app", "ports": [{"name": "http", "containerPort": 8080}]},
            {"name": "linkerd-proxy"}
        ]}
    })
}

fn ready_slice(service: &str, pod: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{service}-slice"), "namespace": NS,
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": true},
                       "targetRef": {"kind": "Pod", "name": pod, "namespace": NS}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
    })
}

async fn start_west(west: &MemoryStore, east: &MemoryStore) -> RunningControlPlane {
    let clusters = Arc::new(BTreeMap::from([
        ("west".to_string(), west.clone()),
        ("east".to_string(), east.clone()),
    ]));
    ControlPlane::new()
        .with_destination(
            west.clone(),
            "west",
            ClusterConfig::default(),
            "linkerd-multicluster",
            connect_embedded(clusters),
        )
        .serve("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve")
}

async fn get(running: &RunningControlPlane, authority: &str) -> Streaming<Update> {
    let channel = Channel::from_shared(format!("http://{}", running.local_addr()))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    DestinationClient::new(channel)
        .get(GetDestination {
            path: authority.to_string(),
            context_token: json!({"ns": NS}).to_string(),
            ..GetDestination::default()
        })
        .await
        .expect("get")
        .into_inner()
}

/// Reads updates until an `Add`, returning its addresses and identities.
async fn next_add(updates: &mut Streaming<Update>) -> Vec<(String, Option<String>)> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let update = updates.message().await.expect("stream").expect("open");
            let Some(Kind::Add(set)) = update.update else {
                continue;
            };
            return set
                .addrs
                .iter()
                .map(|a| {
                    let tcp = a.addr.as_ref().expect("addr");
                    let ip = match tcp.ip.as_ref().and_then(|ip| ip.ip) {
                        Some(Ip::Ipv4(v4)) => std::net::Ipv4Addr::from(v4).to_string(),
                        other => panic!("not IPv4: {other:?}"),
                    };
                    let identity = a
                        .tls_identity
                        .as_ref()
                        .and_then(|t| t.server_name.as_ref())
                        .map(|n| n.name.clone());
                    (format!("{ip}:{}", tcp.port), identity)
                })
                .collect();
        }
    })
    .await
    .expect("an Add in time")
}

#[tokio::test]
async fn west_resolves_its_own_services_and_easts_pods_through_one_address() {
    let (west, east) = (cluster(), cluster());
    apply(&west, service("web", "10.96.0.10", json!({})));
    apply(&west, meshed_pod("web-1", "web"));
    apply(&west, ready_slice("web", "web-1", "10.244.0.7"));
    apply(&east, service("bb", "10.112.0.10", json!({})));
    apply(&east, meshed_pod("bb-1", "bb"));
    apply(&east, ready_slice("bb", "bb-1", "10.245.1.5"));
    apply(
        &west,
        service(
            "bb-east",
            "10.96.0.20",
            json!({
                "mirror.linkerd.io/mirrored-service": "true",
                "mirror.linkerd.io/cluster-name": "east",
                "multicluster.linkerd.io/remote-discovery": "east",
                "multicluster.linkerd.io/remote-service": "bb"
            }),
        ),
    );
    apply(
        &west,
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "cluster-credentials-east", "namespace": "linkerd",
                         "labels": {"multicluster.linkerd.io/cluster-name": "east"}},
            "type": "mirror.linkerd.io/remote-kubeconfig",
            "data": {"kubeconfig": "YXBpVmVyc2lvbjogdjEK"}
        }),
    );
    apply(
        &west,
        json!({
            "apiVersion": "multicluster.linkerd.io/v1alpha3", "kind": "Link",
            "metadata": {"name": "east", "namespace": "linkerd-multicluster"},
            "spec": {"targetClusterName": "east",
                     "clusterCredentialsSecret": "cluster-credentials-east"}
        }),
    );
    let running = start_west(&west, &east).await;

    let mut local = get(&running, "web.mc-demo.svc.cluster.local:8080").await;
    assert_eq!(
        next_add(&mut local).await,
        [(
            "10.244.0.7:8080".to_string(),
            Some("web.mc-demo.serviceaccount.identity.linkerd.cluster.local".to_string())
        )]
    );

    let mut remote = get(&running, "bb-east:8080").await;
    assert_eq!(
        next_add(&mut remote).await,
        [(
            "10.245.1.5:8080".to_string(),
            Some("bb.mc-demo.serviceaccount.identity.linkerd.cluster.local".to_string())
        )]
    );

    // A second east pod becoming ready reaches the open stream.
    apply(&east, meshed_pod("bb-2", "bb"));
    let mut slice = ready_slice("bb", "bb-1", "10.245.1.5");
    slice["endpoints"].as_array_mut().expect("endpoints").push(
        json!({"addresses": ["10.245.1.6"], "conditions": {"ready": true},
                     "targetRef": {"kind": "Pod", "name": "bb-2", "namespace": NS}}),
    );
    apply(&east, slice);
    assert_eq!(
        next_add(&mut remote).await,
        [(
            "10.245.1.6:8080".to_string(),
            Some("bb.mc-demo.serviceaccount.identity.linkerd.cluster.local".to_string())
        )]
    );
    drop((local, remote));
    running.shutdown().await.expect("clean shutdown");
}
