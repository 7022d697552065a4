//! How long a remote pod becoming ready takes to reach a proxy's `Get`
//! stream on a remote-discovery mirror: east's EndpointSlice is written,
//! east's feeder applies it, the mirror's resolution in west moves, and the
//! stream's `Add` crosses a real loopback socket.
//!
//! Run with `cargo bench -p strait-destination-server --bench remote_ready`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use linkerd2_proxy_api::destination::{GetDestination, Update, update};
use serde_json::{Value, json};
use strait_destination::ClusterConfig;
use strait_destination_server::{
    CREDENTIALS_REREAD, DestinationService, SharedClusters, connect_embedded, feed_cluster,
    follow_remote_clusters,
};
use strait_store::MemoryStore;
use strait_test_support::bench::percentile;
use strait_test_support::store::{apply, namespaces};
use strait_test_support::{objects, within};
use tonic::Streaming;

const NS: &str = "mc-demo";
const MC_NS: &str = "linkerd-multicluster";
const CP_NS: &str = "linkerd";
const WARMUP: usize = 50;
const ITERATIONS: usize = 500;
const TARGET_P99: Duration = Duration::from_millis(100);
const PATIENCE: Duration = Duration::from_secs(5);

fn slice(bb_1_ready: bool) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "bb-slice", "namespace": NS,
                     "labels": {"kubernetes.io/service-name": "bb"}},
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["10.245.0.5"], "conditions": {"ready": true},
             "targetRef": {"kind": "Pod", "name": "bb-0", "namespace": NS}},
            {"addresses": ["10.245.0.6"], "conditions": {"ready": bb_1_ready},
             "targetRef": {"kind": "Pod", "name": "bb-1", "namespace": NS}}
        ],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
    })
}

fn setup(west: &MemoryStore, east: &MemoryStore) {
    for store in [west, east] {
        namespaces(store, &[NS, MC_NS, CP_NS]);
    }
    apply(east, objects::service(NS, "bb").port("http", 8080, 8080));
    for pod in ["bb-0", "bb-1"] {
        apply(
            east,
            objects::pod(NS, pod)
                .service_account("bb")
                .container_json(json!({"name": "bb"}))
                .meshed(),
        );
    }
    apply(east, slice(false));
    apply(
        west,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": "bb-east", "namespace": NS,
                "labels": {"mirror.linkerd.io/mirrored-service": "true",
                           "mirror.linkerd.io/cluster-name": "east",
                           "multicluster.linkerd.io/remote-discovery": "east",
                           "multicluster.linkerd.io/remote-service": "bb"}
            },
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}
        }),
    );
    apply(
        west,
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {
                "name": "cluster-credentials-east", "namespace": CP_NS,
                "labels": {"multicluster.linkerd.io/cluster-name": "east"},
                "annotations": {"multicluster.linkerd.io/trust-domain": "east.example"}
            },
            "type": "mirror.linkerd.io/remote-kubeconfig",
            "data": {"kubeconfig": "YXBpVmVyc2lvbjogdjEK"}
        }),
    );
    apply(
        west,
        json!({
            "apiVersion": "multicluster.linkerd.io/v1alpha3", "kind": "Link",
            "metadata": {"name": "east", "namespace": MC_NS},
            "spec": {"targetClusterName": "east",
                     "clusterCredentialsSecret": "cluster-credentials-east"}
        }),
    );
}

/// Reads updates until one satisfies `wanted`, within [`PATIENCE`].
async fn wait_for(stream: &mut Streaming<Update>, wanted: impl Fn(&update::Update) -> bool) {
    within(PATIENCE, "the expected update", async {
        loop {
            match stream.message().await {
                Ok(Some(Update { update: Some(u) })) if wanted(&u) => return,
                Ok(Some(_)) => {}
                other => panic!("no expected update: {other:?}"),
            }
        }
    })
    .await;
}

fn adds_bb_1(u: &update::Update) -> bool {
    matches!(u, update::Update::Add(set) if set.addrs.iter().any(|a| {
        a.addr.and_then(|t| std::net::SocketAddr::try_from(t).ok())
            == Some("10.245.0.6:8080".parse().unwrap())
    }))
}

fn removes(u: &update::Update) -> bool {
    matches!(u, update::Update::Remove(_))
}

async fn run() {
    let west = MemoryStore::new();
    let east = MemoryStore::with_service_range(Ipv4Addr::new(10, 112, 0, 0), 12);
    setup(&west, &east);

    let index = SharedClusters::new();
    index.insert_cluster("west", ClusterConfig::default());
    tokio::spawn(feed_cluster(west.clone(), "west".into(), index.clone()));
    let clusters = Arc::new(BTreeMap::from([("east".to_string(), east.clone())]));
    tokio::spawn(follow_remote_clusters(
        west.clone(),
        MC_NS.into(),
        ClusterConfig::default(),
        connect_embedded(clusters),
        index.clone(),
        CREDENTIALS_REREAD,
    ));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DestinationService::new(index.clone(), "west").into_server())
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let mut client = DestinationClient::connect(format!("http://{addr}"))
        .await
        .expect("connect");
    let mut stream = client
        .get(GetDestination {
            scheme: "k8s".into(),
            path: "bb-east.mc-demo.svc.cluster.local:8080".into(),
            context_token: json!({"ns": NS}).to_string(),
        })
        .await
        .expect("get")
        .into_inner();
    // Until east is linked and its bb-0 is announced.
    wait_for(&mut stream, |u| matches!(u, update::Update::Add(_))).await;

    let mut latencies = Vec::with_capacity(ITERATIONS);
    for i in 0..WARMUP + ITERATIONS {
        let start = Instant::now();
        apply(&east, slice(true));
        wait_for(&mut stream, adds_bb_1).await;
        let elapsed = start.elapsed();
        if i >= WARMUP {
            latencies.push(elapsed);
        }
        apply(&east, slice(false));
        wait_for(&mut stream, removes).await;
    }

    latencies.sort();
    let p50 = percentile(&latencies, 50.0);
    let p90 = percentile(&latencies, 90.0);
    let p99 = percentile(&latencies, 99.0);
    let max = latencies[latencies.len() - 1];
    println!(
        "remote pod ready -> Add on a remote-discovery Get stream ({ITERATIONS} iterations after {WARMUP} warmup)"
    );
    println!("  p50 {p50:?}  p90 {p90:?}  p99 {p99:?}  max {max:?}");
    println!(
        "  p99 / target ({TARGET_P99:?}): {:.4}",
        p99.as_secs_f64() / TARGET_P99.as_secs_f64()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}
