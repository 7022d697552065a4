//! The pod-to-pod guide's workloads on one embedded cluster: a real control
//! plane over a MemoryStore, the Deployments of the guide applied to the
//! store, and every Pod, proxy and request on loopback sockets.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;
use strait_control_plane::RunningControlPlane;
use strait_identity::EmbeddedTokens;
use strait_local_workloads::{ClusterRuntime, IpPool, PodView, Workloads};
use strait_plugin_distribution::PluginOffer;
use strait_store::{ClusterStore, MemoryStore, WatchParams};
use strait_test_support::identity::trust_root;
use strait_test_support::mesh::control_plane;
use strait_test_support::store::{apply, namespaces};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const NS: &str = "mc-demo";
const PATIENCE: Duration = Duration::from_secs(20);

/// One pool for every test, as every cluster of a `strait local` shares
/// one: tests run in parallel and must not hand out the same address.
fn pool() -> IpPool {
    static POOL: OnceLock<IpPool> = OnceLock::new();
    POOL.get_or_init(IpPool::new).clone()
}

struct Cluster {
    store: MemoryStore,
    workloads: Option<Workloads>,
    _plane: RunningControlPlane,
}

impl Cluster {
    async fn start() -> Cluster {
        let store = MemoryStore::new();
        let root = trust_root();
        let anchors = root.as_trust_anchor().to_pem();
        let tokens = EmbeddedTokens::new();
        let plane =
            control_plane("local", &store, &root, tokens.clone(), &PluginOffer::new()).await;
        namespaces(&store, &["linkerd"]);
        let workloads = Workloads::start(ClusterRuntime {
            name: "east".into(),
            store: store.clone(),
            control_plane: plane.local_addr(),
            trust_anchors_pem: anchors,
            tokens,
            ips: pool(),
            control_plane_namespace: "linkerd".into(),
            trust_domain: "cluster.local".into(),
            cluster_domain: "cluster.local".into(),
        })
        .await;
        Cluster {
            store,
            workloads: Some(workloads),
            _plane: plane,
        }
    }

    fn pods(&self) -> Vec<PodView> {
        self.workloads.as_ref().unwrap().pods()
    }

    /// Waits until `check` finds what it looks for among the kubelet's Pods.
    async fn until_pods<T>(&self, what: &str, check: impl Fn(&[PodView]) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let pods = self.pods();
            if let Some(found) = check(&pods) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never saw {what}: {pods:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The store's Pods of `app`.
    async fn stored_pods(&self, app: &str) -> Vec<Pod> {
        first_listing(&self.store, WatchParams::labelled("app", app)).await
    }

    /// The addresses of `service`'s EndpointSlices, with their readiness.
    async fn endpoints(&self, service: &str) -> Vec<(String, bool)> {
        let slices: Vec<EndpointSlice> = first_listing(
            &self.store,
            WatchParams::labelled("kubernetes.io/service-name", service),
        )
        .await;
        let mut all: Vec<(String, bool)> = slices
            .iter()
            .flat_map(|s| s.endpoints.iter().flatten())
            .map(|e| {
                (
                    e.addresses[0].clone(),
                    e.conditions.as_ref().and_then(|c| c.ready) == Some(true),
                )
            })
            .collect();
        all.sort();
        all
    }

    async fn stop(mut self) {
        if let Some(w) = self.workloads.take() {
            w.stop().await;
        }
    }
}

async fn first_listing<K: strait_store::StoredObject>(
    store: &MemoryStore,
    params: WatchParams,
) -> Vec<K> {
    use futures::StreamExt;
    match store.watch::<K>(params).next().await {
        Some(Ok(strait_store::Event::Reset(all))) => all,
        _ => panic!("a watch starts with a listing"),
    }
}

/// Waits until `check` holds, polling `probe`.
async fn until<T, F, Fut>(what: &str, mut probe: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
    T: std::fmt::Debug,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let value = probe().await;
        if check(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saw {what}; last: {value:#?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The guide's bb Deployment (as `linkerd inject` leaves it when `meshed`)
/// and its Service.
fn bb(store: &MemoryStore, replicas: u32, text: &str, meshed: bool) {
    let annotations = if meshed {
        json!({"linkerd.io/inject": "enabled"})
    } else {
        json!({})
    };
    apply(
        store,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "bb", "namespace": NS},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "bb"}},
                "template": {
                    "metadata": {"labels": {"app": "bb"}, "annotations": annotations},
                    "spec": {"containers": [{
                        "name": "terminus", "image": "buoyantio/bb:v0.0.6",
                        "args": ["terminus", "--h1-server-port=8080", format!("--response-text={text}")],
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
            "metadata": {"name": "bb", "namespace": NS},
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}],
                     "selector": {"app": "bb"}}
        }),
    );
}

/// The guide's slow-cooker, injected, at `qps` to `url`.
fn slow_cooker(store: &MemoryStore, qps: u32, url: &str, meshed: bool) {
    let annotations = if meshed {
        json!({"linkerd.io/inject": "enabled"})
    } else {
        json!({})
    };
    apply(
        store,
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "slow-cooker", "namespace": NS}}),
    );
    apply(
        store,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "slow-cooker", "namespace": NS},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "slow-cooker"}},
                "template": {
                    "metadata": {"labels": {"app": "slow-cooker"}, "annotations": annotations},
                    "spec": {
                        "serviceAccountName": "slow-cooker",
                        "containers": [{
                            "name": "slow-cooker", "image": "buoyantio/slow_cooker:1.3.0",
                            "command": ["/bin/sh"],
                            "args": ["-c", format!(
                                "sleep 0.2 # wait for pods to start\n/slow_cooker/slow_cooker --qps {qps} {url}\n"
                            )]
                        }]
                    }
                }
            }
        }),
    );
}

/// `GET /` over a fresh connection from `from`; the status and body.
async fn get(from: IpAddr, to: SocketAddr, path: &str) -> Option<(u16, String)> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::new(from, 0)).ok()?;
    let mut stream = tokio::time::timeout(Duration::from_secs(2), socket.connect(to))
        .await
        .ok()?
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: bb\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .ok()?
        .ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn client_ip() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// The inbound requests a proxy counted, over all its series.
fn inbound_requests(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("request_total{") && l.contains("direction=\"inbound\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn ready_pod(pods: &[PodView], deployment: &str) -> Option<PodView> {
    pods.iter()
        .find(|p| p.deployment.as_deref() == Some(deployment) && p.ready)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_bb_runs_meshed_and_answers_hello() {
    let cluster = Cluster::start().await;
    namespaces(&cluster.store, &[NS]);
    bb(&cluster.store, 1, "hello\n", true);

    let view = cluster
        .until_pods("a ready bb", |pods| ready_pod(pods, "bb"))
        .await;
    assert!(view.meshed && view.problem.is_none(), "{view:?}");
    let ip = view.ip.expect("a ready Pod has an address");
    let admin = view.proxy_admin.expect("a meshed Pod has a proxy");
    assert_eq!(admin, SocketAddr::new(ip, 4191));

    // The Pod as the ReplicaSet controller and the injector write it.
    let pods = cluster.stored_pods("bb").await;
    assert_eq!(pods.len(), 1);
    let pod = &pods[0];
    let name = pod.metadata.name.clone().unwrap();
    let hash = pod.metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert!(name.starts_with(&format!("bb-{hash}-")), "{name}");
    assert_eq!(name.len(), format!("bb-{hash}-").len() + 5, "{name}");
    let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.clone(), owner.controller),
        ("ReplicaSet", format!("bb-{hash}"), Some(true))
    );
    let spec = pod.spec.as_ref().unwrap();
    assert!(spec.containers.iter().any(|c| c.name == "linkerd-proxy"));
    assert!(
        pod.metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key("linkerd.io/proxy-version")
    );
    let status = pod.status.as_ref().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert_eq!(status.pod_ip.as_deref(), Some(ip.to_string().as_str()));

    let endpoints = until(
        "bb's endpoint",
        || cluster.endpoints("bb"),
        |e| e == &vec![(ip.to_string(), true)],
    )
    .await;
    assert_eq!(endpoints.len(), 1);

    // A plain client, with no identity, is admitted by the default policy.
    let answer = until(
        "bb's answer",
        || get(client_ip(), SocketAddr::new(ip, 8080), "/"),
        |a| a.as_ref().is_some_and(|(status, _)| *status == 200),
    )
    .await;
    assert_eq!(answer, Some((200, "hello\n".to_string())));

    // The proxy's metrics carry the Pod's labels and count the request.
    let metrics = get(client_ip(), admin, "/metrics").await.unwrap().1;
    assert!(metrics.contains("deployment=\"bb\""), "{metrics}");
    assert!(inbound_requests(&metrics) >= 1.0, "{metrics}");

    // Kubernetes' default ServiceAccount exists in the namespace.
    let account: Option<ServiceAccount> = cluster.store.get(NS, "default").await.unwrap();
    assert!(account.is_some());
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_slow_cooker_drives_bb_at_its_rate() {
    let cluster = Cluster::start().await;
    namespaces(&cluster.store, &[NS]);
    bb(&cluster.store, 1, "hello\n", true);
    slow_cooker(&cluster.store, 20, "http://bb:8080", true);
    let bb = cluster
        .until_pods("a ready bb", |pods| ready_pod(pods, "bb"))
        .await;
    let cooker = cluster
        .until_pods("a ready slow-cooker", |pods| ready_pod(pods, "slow-cooker"))
        .await;
    assert!(cooker.meshed, "{cooker:?}");
    let admin = bb.proxy_admin.unwrap();
    let count = || async move {
        get(client_ip(), admin, "/metrics")
            .await
            .map(|(_, m)| inbound_requests(&m))
            .unwrap_or(0.0)
    };
    // Wait for traffic to flow, then measure over two seconds.
    until("traffic at bb", count, |n| *n >= 5.0).await;
    let start = tokio::time::Instant::now();
    let before = count().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = count().await;
    let rate = (after - before) / start.elapsed().as_secs_f64();
    assert!(
        (15.0..=25.0).contains(&rate),
        "bb saw {rate:.1} requests a second; slow_cooker sends 20"
    );
    // The requests came from slow-cooker's identity, over mTLS.
    let metrics = get(client_ip(), admin, "/metrics").await.unwrap().1;
    assert!(
        metrics.contains("slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local"),
        "{metrics}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmeshed_bb_scales_rolls_and_goes_away() {
    let cluster = Cluster::start().await;
    namespaces(&cluster.store, &[NS]);
    bb(&cluster.store, 1, "one", false);
    let first = cluster
        .until_pods("a ready bb", |pods| ready_pod(pods, "bb"))
        .await;
    assert!(!first.meshed && first.proxy_admin.is_none(), "{first:?}");
    let ip = first.ip.unwrap();
    let answer = get(client_ip(), SocketAddr::new(ip, 8080), "/").await;
    assert_eq!(answer, Some((200, "one".to_string())));

    // Scaling up: two Pods, two endpoints.
    bb(&cluster.store, 2, "one", false);
    let ips = cluster
        .until_pods("two ready bb", |pods| {
            let ips: Vec<IpAddr> = pods
                .iter()
                .filter(|p| p.ready)
                .filter_map(|p| p.ip)
                .collect();
            (ips.len() == 2).then_some(ips)
        })
        .await;
    until(
        "two endpoints",
        || cluster.endpoints("bb"),
        |e| e.len() == 2 && e.iter().all(|(_, ready)| *ready),
    )
    .await;
    for ip in &ips {
        let answer = get(client_ip(), SocketAddr::new(*ip, 8080), "/").await;
        assert_eq!(answer, Some((200, "one".to_string())), "{ip}");
    }

    // A new template replaces both Pods.
    bb(&cluster.store, 2, "two", false);
    let old = ips.clone();
    let new_ips = cluster
        .until_pods("two new bb", |pods| {
            let ready: Vec<IpAddr> = pods
                .iter()
                .filter(|p| p.ready)
                .filter_map(|p| p.ip)
                .collect();
            let replaced = pods.len() == 2 && ready.len() == 2;
            (replaced && ready.iter().all(|ip| !old.contains(ip))).then_some(ready)
        })
        .await;
    for ip in &new_ips {
        let answer = get(client_ip(), SocketAddr::new(*ip, 8080), "/").await;
        assert_eq!(answer, Some((200, "two".to_string())), "{ip}");
    }
    // The old Pods drain for two seconds: out of the endpoints, still
    // answering what was already routed to them, then their addresses go
    // back to the pool.
    let answer = get(client_ip(), SocketAddr::new(ips[0], 8080), "/").await;
    assert_eq!(
        answer,
        Some((200, "one".to_string())),
        "a draining Pod still serves"
    );
    released(&ips).await;

    // Deleting the Deployment deletes its Pods and empties the endpoints.
    cluster
        .store
        .delete::<k8s_openapi::api::apps::v1::Deployment>(NS, "bb")
        .await
        .unwrap();
    cluster
        .until_pods("no Pods", |pods| pods.is_empty().then_some(()))
        .await;
    until("no endpoints", || cluster.endpoints("bb"), Vec::is_empty).await;
    assert!(cluster.stored_pods("bb").await.is_empty());
    released(&new_ips).await;
    cluster.stop().await;
}

/// Waits until every address of `ips` is back in the pool: a deleted Pod
/// drains for two seconds first, and must be gone within five.
async fn released(ips: &[IpAddr]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while ips.iter().any(|ip| pool().is_allocated(*ip)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{ips:?} not released within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_image_stays_pending_and_says_why() {
    let cluster = Cluster::start().await;
    namespaces(&cluster.store, &[NS]);
    apply(
        &cluster.store,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}
                }
            }
        }),
    );
    let view = cluster
        .until_pods("web's problem", |pods| {
            pods.iter().find(|p| p.problem.is_some()).cloned()
        })
        .await;
    assert!(!view.ready && view.ip.is_none(), "{view:?}");
    assert!(view.problem.unwrap().contains("nginx:1.25"));
    let pod = until(
        "web's Pending status",
        || async {
            cluster
                .stored_pods("web")
                .await
                .into_iter()
                .find(|p| p.status.is_some())
        },
        Option::is_some,
    )
    .await
    .unwrap();
    let status = pod.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let waiting = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("ImageNotSupported"));
    assert!(waiting.message.unwrap().contains("nginx:1.25"));
    cluster.stop().await;
}

/// A server counting the requests it gets, standing in for a Service's
/// endpoint an unmeshed slow_cooker resolves by name.
async fn counting_server() -> (SocketAddr, Arc<std::sync::atomic::AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if stream.write_all(ok).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmeshed_slow_cooker_finds_a_service_by_name() {
    let cluster = Cluster::start().await;
    namespaces(&cluster.store, &[NS]);
    let (server, seen) = counting_server().await;
    apply(
        &cluster.store,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "target", "namespace": NS},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": server.port()}]}
        }),
    );
    apply(
        &cluster.store,
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "target-manual", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": "target"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}],
            "ports": [{"name": "http", "port": server.port(), "protocol": "TCP"}]
        }),
    );
    slow_cooker(
        &cluster.store,
        20,
        "http://target.mc-demo.svc.cluster.local",
        false,
    );
    let counted = || {
        let seen = seen.clone();
        async move { seen.load(std::sync::atomic::Ordering::Relaxed) }
    };
    until("requests at the endpoint", counted, |n| *n >= 3).await;
    let before = counted().await;
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rate = (counted().await - before) as f64 / start.elapsed().as_secs_f64();
    assert!((15.0..=25.0).contains(&rate), "{rate:.1} requests a second");
    // The selector-less Service's slice is left alone.
    let slices: Vec<EndpointSlice> = first_listing(
        &cluster.store,
        WatchParams::labelled("kubernetes.io/service-name", "target"),
    )
    .await;
    assert_eq!(slices.len(), 1);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_annotation_injects_its_pods() {
    let cluster = Cluster::start().await;
    apply(
        &cluster.store,
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": NS, "annotations": {"linkerd.io/inject": "enabled"}}}),
    );
    bb(&cluster.store, 1, "meshed by namespace", false);
    let view = cluster
        .until_pods("a ready bb", |pods| ready_pod(pods, "bb"))
        .await;
    assert!(view.meshed && view.proxy_admin.is_some(), "{view:?}");
    let answer = get(client_ip(), SocketAddr::new(view.ip.unwrap(), 8080), "/").await;
    assert_eq!(answer, Some((200, "meshed by namespace".to_string())));
    // The older Endpoints object is kept too, for readers of core/v1.
    let endpoints = until(
        "bb's Endpoints",
        || async {
            cluster
                .store
                .get::<k8s_openapi::api::core::v1::Endpoints>(NS, "bb")
                .await
                .unwrap()
                .and_then(|e| e.subsets)
                .and_then(|s| s[0].addresses.clone())
                .map(|a| a.into_iter().map(|a| a.ip).collect::<Vec<_>>())
        },
        |ips| ips == &Some(vec![view.ip.unwrap().to_string()]),
    )
    .await;
    assert!(endpoints.is_some());
    cluster.stop().await;
}
