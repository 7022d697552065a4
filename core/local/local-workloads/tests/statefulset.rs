//! A StatefulSet on one embedded cluster: Pods of stable names, each under
//! its headless Service's name and at the same address on every start,
//! scaled through `spec.replicas`, with the status kubectl reads.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::OnceLock;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::{Value, json};
use strait_identity::EmbeddedTokens;
use strait_local_workloads::{ClusterRuntime, IpPool, PodView, Workloads};
use strait_store::{ClusterStore, Event, MemoryStore, StoredObject, WatchParams};
use strait_test_support::poll::eventually;
use strait_test_support::store::{apply, namespaces};

const NS: &str = "sts-demo";

fn pool() -> IpPool {
    static POOL: OnceLock<IpPool> = OnceLock::new();
    POOL.get_or_init(IpPool::new).clone()
}

/// A cluster of unmeshed workloads named `name`: no control plane is
/// reached. Each test names its own, since a StatefulSet Pod's address is
/// chosen by cluster, namespace and name in the one pool they share.
async fn start(name: &str, store: &MemoryStore) -> Workloads {
    Workloads::start(ClusterRuntime {
        name: name.into(),
        store: store.clone(),
        control_plane: "127.0.0.1:9".parse().unwrap(),
        trust_anchors_pem: String::new(),
        tokens: EmbeddedTokens::new(),
        ips: pool(),
        control_plane_namespace: "linkerd".into(),
        trust_domain: "cluster.local".into(),
        cluster_domain: "cluster.local".into(),
    })
    .await
}

/// StatefulSet `web` of bb answering `web`, and its headless Service.
fn web(store: &MemoryStore, replicas: u32) {
    apply(
        store,
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": replicas,
                "serviceName": "web",
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "terminus", "image": "buoyantio/bb:v0.0.6",
                        "args": ["terminus", "--h1-server-port=8080", "--response-text=web"],
                        "ports": [{"containerPort": 8080}]
                    }]}
                }
            }
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {"clusterIP": "None", "selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 8080}]}
        }),
    );
}

async fn listing<K: StoredObject>(store: &MemoryStore, params: WatchParams) -> Vec<K> {
    match store.watch::<K>(params).next().await {
        Some(Ok(Event::Reset(all))) => all,
        _ => panic!("a watch starts with a listing"),
    }
}

/// The ready Pods by name, once there are exactly `names`.
fn ready(pods: &[PodView], names: &[&str]) -> Option<BTreeMap<String, IpAddr>> {
    let ready: BTreeMap<String, IpAddr> = pods
        .iter()
        .filter(|p| p.ready)
        .filter_map(|p| Some((p.name.clone(), p.ip?)))
        .collect();
    let all: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    (all == names && ready.len() == names.len()).then_some(ready)
}

async fn status(store: &MemoryStore) -> Value {
    let set: Option<StatefulSet> = store.get(NS, "web").await.unwrap();
    serde_json::to_value(set.and_then(|s| s.status)).unwrap()
}

/// Each endpoint of the Service's slices: its address and hostname.
async fn hostnames(store: &MemoryStore) -> Vec<(String, Option<String>)> {
    let slices: Vec<EndpointSlice> = listing(
        store,
        WatchParams::labelled("kubernetes.io/service-name", "web"),
    )
    .await;
    let mut all: Vec<_> = slices
        .iter()
        .flat_map(|s| s.endpoints.iter().flatten())
        .map(|e| (e.addresses[0].clone(), e.hostname.clone()))
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateful_sets_pods_keep_their_names_and_addresses() {
    let store = MemoryStore::new();
    namespaces(&store, &[NS]);
    let workloads = start("names", &store).await;
    web(&store, 2);
    let first = eventually("web-0 and web-1 ready", async || {
        ready(&workloads.pods(), &["web-0", "web-1"])
    })
    .await;
    for view in workloads.pods() {
        assert_eq!(view.statefulset.as_deref(), Some("web"), "{view:?}");
    }

    let pods: Vec<Pod> = listing(&store, WatchParams::labelled("app", "web")).await;
    for pod in &pods {
        let name = pod.metadata.name.clone().unwrap();
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some(name.as_str()));
        assert_eq!(spec.subdomain.as_deref(), Some("web"));
        let labels = pod.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["statefulset.kubernetes.io/pod-name"], name);
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("StatefulSet", "web")
        );
        assert_eq!(owner.controller, Some(true));
    }

    let expected: Vec<(String, Option<String>)> = first
        .iter()
        .map(|(name, ip)| (ip.to_string(), Some(name.clone())))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    eventually("the headless Service's endpoints by hostname", async || {
        let seen = hostnames(&store).await;
        if seen == expected { Ok(()) } else { Err(seen) }
    })
    .await;
    eventually("status: 2 replicas, 2 ready", async || {
        let status = status(&store).await;
        (status["replicas"] == 2 && status["readyReplicas"] == 2).then_some(())
    })
    .await;

    // A deleted Pod comes back under its name, at its address.
    let old: Pod = store.get(NS, "web-0").await.unwrap().unwrap();
    store.delete::<Pod>(NS, "web-0").await.unwrap();
    eventually("web-0 made again", async || {
        let pod: Option<Pod> = store.get(NS, "web-0").await.unwrap();
        pod.filter(|p| p.metadata.uid != old.metadata.uid)
    })
    .await;
    let again = eventually("web-0 ready again", async || {
        let pods = workloads.pods();
        ready(&pods, &["web-0", "web-1"]).ok_or(pods)
    })
    .await;
    assert_eq!(again["web-0"], first["web-0"], "web-0 kept its address");

    // Scaling down removes the highest ordinal.
    web(&store, 1);
    eventually("only web-0 left", async || {
        ready(&workloads.pods(), &["web-0"])
    })
    .await;
    eventually("status: 1 replica", async || {
        let status = status(&store).await;
        (status["replicas"] == 1 && status["readyReplicas"] == 1).then_some(())
    })
    .await;
    workloads.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmeshed_client_reaches_one_member_by_its_name() {
    let store = MemoryStore::new();
    namespaces(&store, &[NS]);
    let workloads = start("client", &store).await;
    web(&store, 2);
    eventually("web-0 and web-1 ready", async || {
        ready(&workloads.pods(), &["web-0", "web-1"])
    })
    .await;
    apply(
        &store,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "client", "namespace": NS},
            "spec": {"containers": [{
                "name": "slow-cooker", "image": "buoyantio/slow_cooker:1.3.0",
                "args": ["-qps", "20", "http://web-1.web.sts-demo.svc.cluster.local:8080"]
            }]}
        }),
    );
    let load = eventually("the client's load", async || {
        workloads
            .pods()
            .into_iter()
            .find(|p| p.name == "client")
            .and_then(|p| p.load)
    })
    .await;
    eventually("answers from web-1", async || load.succeeded() >= 3).await;
    assert_eq!(load.failed(), 0, "{:?}", load.last_failure());
    let answered = |pod: &str| {
        let log = workloads.logs(NS, pod, Some("terminus")).unwrap();
        log.lines()
            .iter()
            .filter(|l| l.text.contains("Received request"))
            .count()
    };
    assert!(answered("web-1") >= 3);
    assert_eq!(answered("web-0"), 0, "only web-1 is named");
    workloads.stop().await;
}
