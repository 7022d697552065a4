//! A multicluster gateway run as a Pod: east's workloads run the gateway
//! Deployment of `linkerd multicluster install` (the proxy image with
//! `STRAIT_PROXY_GATEWAY=true`) and a meshed bb; a proxy of west, whose
//! gateway-mode mirror points at the gateway Pod, reaches bb through it,
//! and bb's proxy authorizes the client the gateway names.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde_json::json;
use strait_identity::{EmbeddedTokens, ServiceAccountRef};
use strait_local_workloads::{ClusterRuntime, IpPool, PodView, Workloads};
use strait_plugin_distribution::PluginOffer;
use strait_proxy::{IdentityConfig, ProxyConfig, TokenConfig};
use strait_store::MemoryStore;
use strait_test_support::eventually_within;
use strait_test_support::guide::{NS, identity, workload};
use strait_test_support::identity::trust_root;
use strait_test_support::mesh::control_plane;
use strait_test_support::net::{any_port, http_get};
use strait_test_support::store::{apply, namespaces};

const GATEWAY_NS: &str = "linkerd-multicluster";
const PATIENCE: Duration = Duration::from_secs(20);

/// East: the gateway as `linkerd multicluster install` deploys it, and the
/// guide's bb, meshed, exported through the gateway, with no policy
/// (all-unauthenticated).
fn east_objects(store: &MemoryStore) {
    apply(
        store,
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "linkerd-gateway", "namespace": GATEWAY_NS}}),
    );
    apply(
        store,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "linkerd-gateway", "namespace": GATEWAY_NS},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "linkerd-gateway"}},
                "template": {
                    "metadata": {"labels": {"app": "linkerd-gateway"}},
                    "spec": {
                        "serviceAccountName": "linkerd-gateway",
                        "containers": [{
                            "name": "linkerd-proxy",
                            "image": "cr.l5d.io/linkerd/proxy:edge-24.11.8",
                            "env": [{"name": "STRAIT_PROXY_GATEWAY", "value": "true"}],
                            "ports": [{"name": "mc-gateway", "containerPort": 4143},
                                      {"name": "mc-probe", "containerPort": 4191}]
                        }]
                    }
                }
            }
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "linkerd-gateway", "namespace": GATEWAY_NS},
            "spec": {"selector": {"app": "linkerd-gateway"},
                     "ports": [{"name": "mc-gateway", "port": 4143, "targetPort": 4143},
                               {"name": "mc-probe", "port": 4191, "targetPort": 4191}]}
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "bb", "namespace": NS},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "bb"}},
                "template": {
                    "metadata": {"labels": {"app": "bb"},
                                 "annotations": {"linkerd.io/inject": "enabled"}},
                    "spec": {"containers": [{
                        "name": "terminus", "image": "buoyantio/bb:v0.0.6",
                        "args": ["terminus", "--h1-server-port=8080", "--response-text=hello"],
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
            "metadata": {"name": "bb", "namespace": NS,
                         "labels": {"mirror.linkerd.io/exported": "true"}},
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}],
                     "selector": {"app": "bb"}}
        }),
    );
}

/// West: the gateway-mode mirror of bb, as the service mirror writes it.
fn west_objects(store: &MemoryStore, gateway: IpAddr) {
    let labels = json!({"mirror.linkerd.io/mirrored-service": "true",
                        "mirror.linkerd.io/cluster-name": "east"});
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "bb-east", "namespace": NS, "labels": labels,
                         "annotations": {"mirror.linkerd.io/remote-svc-fq-name": "bb.mc-demo.svc.cluster.local"}},
            "spec": {"clusterIP": "10.96.0.20",
                     "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "bb-east", "namespace": NS, "labels": labels,
                         "annotations": {"mirror.linkerd.io/remote-gateway-identity":
                                         identity("linkerd-gateway", GATEWAY_NS)}},
            "subsets": [{"addresses": [{"ip": gateway.to_string()}],
                         "ports": [{"name": "http", "port": 4143, "protocol": "TCP"}]}]
        }),
    );
}

/// One HTTP/1.1 request from loopback over a fresh connection: the status
/// and body, or status 0 when the connection fails or is closed unanswered.
async fn request(to: SocketAddr, path: &str, host: &str) -> (u16, String) {
    http_get(IpAddr::V4(Ipv4Addr::LOCALHOST), to, host, path).await
}

async fn until_ready(workloads: &Workloads, deployment: &str) -> PodView {
    eventually_within(PATIENCE, format!("{deployment} ready"), async || {
        let pods = workloads.pods();
        pods.iter()
            .find(|p| p.deployment.as_deref() == Some(deployment) && p.ready)
            .cloned()
            .ok_or(pods)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_pod_is_ready_and_forwards_meshed_clients_to_bb() {
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let (east, west) = (MemoryStore::new(), MemoryStore::new());
    namespaces(&east, &[NS, "linkerd", GATEWAY_NS]);
    namespaces(&west, &[NS, "linkerd", GATEWAY_NS]);
    east_objects(&east);
    let east_tokens = EmbeddedTokens::new();
    let east_plane = control_plane(
        "east",
        &east,
        &root,
        east_tokens.clone(),
        &PluginOffer::new(),
    )
    .await;
    let workloads = Workloads::start(ClusterRuntime {
        name: "east".into(),
        store: east.clone(),
        control_plane: east_plane.local_addr(),
        trust_anchors_pem: anchors.clone(),
        tokens: east_tokens,
        ips: IpPool::new(),
        control_plane_namespace: "linkerd".into(),
        trust_domain: "cluster.local".into(),
        cluster_domain: "cluster.local".into(),
    })
    .await;

    // The gateway Pod: meshed, ready once certified, at its stable address,
    // its admin server where the mirror's probe (`mc-probe`) looks.
    let gateway = until_ready(&workloads, "linkerd-gateway").await;
    assert!(gateway.meshed && gateway.problem.is_none(), "{gateway:?}");
    let ip = gateway.ip.unwrap();
    assert!(ip.to_string().starts_with("127.1.255."), "{ip}");
    assert_eq!(gateway.proxy_admin, Some(SocketAddr::new(ip, 4191)));
    assert_eq!(
        request(SocketAddr::new(ip, 4191), "/ready", "admin")
            .await
            .0,
        200
    );
    let bb = until_ready(&workloads, "bb").await;

    // A meshed client of west, sent to the gateway by its mirror.
    west_objects(&west, ip);
    let west_tokens = EmbeddedTokens::new();
    west_tokens.register(
        "slow-cooker-token",
        ServiceAccountRef::new(NS, "slow-cooker"),
    );
    let west_plane = control_plane("west", &west, &root, west_tokens, &PluginOffer::new()).await;
    let any = any_port();
    let workload = workload(NS, "slow-cooker-1");
    let client = strait_proxy::start(ProxyConfig {
        inbound_listen_addr: any,
        inbound_direct: Vec::new(),
        outbound_listen_addr: any,
        admin_listen_addr: any,
        probe_listen_addr: None,
        identity: IdentityConfig {
            local_name: identity("slow-cooker", NS),
            trust_anchors_pem: anchors,
            token: TokenConfig::Value(b"slow-cooker-token".to_vec()),
            service_addr: west_plane.local_addr().to_string(),
            service_name: None,
        },
        destination_addr: west_plane.local_addr().to_string(),
        destination_name: None,
        destination_context: workload.clone(),
        policy_addr: west_plane.local_addr().to_string(),
        policy_name: None,
        authz_plugin_digests: None,
        policy_workload: workload,
        gateway: false,
        gateway_suffixes: strait_proxy::default_gateway_suffixes(),
        trusted_gateways: Default::default(),
        metric_labels: BTreeMap::new(),
        detect_timeout: Duration::from_secs(1),
        source_ip: Some("127.0.0.1".parse().unwrap()),
        metrics_retain_idle: strait_proxy::DEFAULT_RETAIN_IDLE,
        plugin_max_instances: strait_proxy::DEFAULT_PLUGIN_MAX_INSTANCES,
    })
    .await
    .unwrap();
    assert!(
        client.wait_ready(PATIENCE).await,
        "the client never certified"
    );

    let host = format!("bb-east.{NS}.svc.cluster.local:8080");
    let body = eventually_within(
        PATIENCE,
        "bb answers through the gateway",
        async || match request(client.outbound_addr, "/", &host).await {
            (200, body) => Ok(body),
            answer => Err(answer),
        },
    )
    .await;
    assert_eq!(body, "hello");

    // bb's connection is the gateway's, over mTLS; the request is
    // authorized as the client the gateway verified and named, which bb's
    // proxy (configured by the kubelet as the injector would) trusts the
    // gateway's identity alone to name.
    let metrics = request(bb.proxy_admin.unwrap(), "/metrics", "admin")
        .await
        .1;
    let gateway_identity = identity("linkerd-gateway", GATEWAY_NS);
    let client_identity = identity("slow-cooker", NS);
    let series_of = |family: &str, client: &str| {
        metrics.lines().any(|l| {
            l.starts_with(&format!("{family}{{")) && l.contains(&format!("client_id=\"{client}\""))
        })
    };
    assert!(
        series_of("inbound_http_authz_allow_total", &client_identity),
        "{metrics}"
    );
    assert!(
        !series_of("inbound_http_authz_allow_total", &gateway_identity),
        "{metrics}"
    );
    assert!(series_of("tcp_open_total", &gateway_identity), "{metrics}");
    // Plaintext to the gateway port is closed unanswered.
    let plain = request(
        SocketAddr::new(ip, 4143),
        "/",
        "bb.mc-demo.svc.cluster.local",
    )
    .await;
    assert_eq!(plain.0, 0);
    drop(client);
    workloads.stop().await;
    drop((east_plane, west_plane));
}
