//! `kubectl logs` of the guide's workloads: slow_cooker's interval reports
//! and bb's request log, read from the kubelet as the API server reads
//! them, on one embedded cluster with a real control plane.

use std::sync::OnceLock;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use strait_control_plane::RunningControlPlane;
use strait_identity::EmbeddedTokens;
use strait_local_workloads::{ClusterRuntime, IpPool, LogError, LogOptions, PodView, Workloads};
use strait_plugin_distribution::PluginOffer;
use strait_store::MemoryStore;
use strait_test_support::identity::trust_root;
use strait_test_support::mesh::control_plane;
use strait_test_support::store::{apply, namespaces};

const NS: &str = "mc-demo";
const PATIENCE: Duration = Duration::from_secs(30);

fn pool() -> IpPool {
    static POOL: OnceLock<IpPool> = OnceLock::new();
    POOL.get_or_init(IpPool::new).clone()
}

async fn start() -> (MemoryStore, Workloads, RunningControlPlane) {
    let store = MemoryStore::new();
    let root = trust_root();
    let tokens = EmbeddedTokens::new();
    let plane = control_plane("local", &store, &root, tokens.clone(), &PluginOffer::new()).await;
    namespaces(&store, &["linkerd", NS]);
    let workloads = Workloads::start(ClusterRuntime {
        name: "east".into(),
        store: store.clone(),
        control_plane: plane.local_addr(),
        trust_anchors_pem: root.as_trust_anchor().to_pem(),
        tokens,
        ips: pool(),
        control_plane_namespace: "linkerd".into(),
        trust_domain: "cluster.local".into(),
        cluster_domain: "cluster.local".into(),
    })
    .await;
    (store, workloads, plane)
}

fn deployment(store: &MemoryStore, name: &str, container: serde_json::Value) {
    apply(
        store,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name},
                                 "annotations": {"linkerd.io/inject": "enabled"}},
                    "spec": {"containers": [container]}
                }
            }
        }),
    );
}

fn bb_and_slow_cooker(store: &MemoryStore) {
    deployment(
        store,
        "bb",
        json!({"name": "terminus", "image": "buoyantio/bb:v0.0.6",
               "args": ["terminus", "--h1-server-port=8080", "--response-text=hello"]}),
    );
    apply(
        store,
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "bb", "namespace": NS},
               "spec": {"ports": [{"port": 8080, "targetPort": 8080}], "selector": {"app": "bb"}}}),
    );
    deployment(
        store,
        "slow-cooker",
        json!({"name": "slow-cooker", "image": "buoyantio/slow_cooker:1.3.0",
               "command": ["/bin/sh"],
               "args": ["-c", "sleep 1\n/slow_cooker/slow_cooker -qps 4 -interval 1s -totalRequests 8 http://bb:8080\n"]}),
    );
}

async fn until_pod(workloads: &Workloads, check: impl Fn(&PodView) -> bool) -> PodView {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let pods = workloads.pods();
        if let Some(pod) = pods.iter().find(|p| check(p)) {
            return pod.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{pods:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn text(workloads: &Workloads, pod: &str, container: &str) -> String {
    let log = workloads.logs(NS, pod, Some(container)).unwrap();
    String::from_utf8(log.read(&LogOptions::default())).unwrap()
}

/// The good counts of slow_cooker's interval lines
/// (`<time> <iter> <good>/<bad>/<failed> …`).
fn good_counts(log: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter_map(|counts| counts.split('/').next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_cooker_reports_each_interval_and_bb_logs_each_request() {
    let (store, workloads, _plane) = start().await;
    bb_and_slow_cooker(&store);
    let bb = until_pod(&workloads, |p| {
        p.deployment.as_deref() == Some("bb") && p.ready
    })
    .await;
    let cooker = until_pod(&workloads, |p| {
        p.load
            .as_ref()
            .is_some_and(|l| l.succeeded() + l.failed() >= 8)
    })
    .await;
    let mut bb_follow = Box::pin(
        workloads
            .logs(NS, &bb.name, Some("terminus"))
            .unwrap()
            .follow(&LogOptions::default()),
    );

    // The last interval's line and the summary come once all are sent.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let log = loop {
        let log = text(&workloads, &cooker.name, "slow-cooker");
        if log.contains("\"p999\"") {
            break log;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let load = cooker.load.unwrap();
    assert!(
        log.starts_with("# sending 4 GET req/s with concurrency=1 to http://bb:8080 ...\n#"),
        "{log}"
    );
    let goods = good_counts(&log);
    assert!(goods.len() >= 2, "{log}");
    assert_eq!(goods.iter().sum::<u64>(), load.succeeded(), "{log}");
    assert!(load.succeeded() > 0, "{log}");
    assert!(log.lines().nth(2).unwrap().contains(" 1s "), "{log}");

    // bb logged every request it answered.
    let bb_log = text(&workloads, &bb.name, "terminus");
    let answered = bb_log
        .lines()
        .filter(|l| {
            l.contains("msg=\"Received HTTP request [in:http-sid:terminus-grpc:-1-h1:8080-")
        })
        .count() as u64;
    assert_eq!(answered, load.succeeded(), "{bb_log}");
    assert!(bb_log.starts_with("time=\""), "{bb_log}");

    // Two containers: the API server wants one named.
    let err = workloads.logs(NS, &cooker.name, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "a container name must be specified for pod {}, choose one of: [slow-cooker linkerd-proxy]",
            cooker.name
        )
    );
    assert!(matches!(
        workloads.logs(NS, &cooker.name, Some("nope")),
        Err(LogError::NoContainer { .. })
    ));
    assert!(matches!(
        workloads.logs(NS, "gone", None),
        Err(LogError::NoPod { .. })
    ));

    // A follower ends when its Pod stops.
    workloads.stop().await;
    let drained = tokio::time::timeout(PATIENCE, async {
        while bb_follow.next().await.is_some() {}
    })
    .await;
    assert!(drained.is_ok(), "bb's follower did not end with its Pod");
}
