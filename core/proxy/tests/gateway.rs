//! Gateway mode on loopback: west's slow-cooker calls `bb-east`, a
//! gateway-mode mirror whose endpoint is east's gateway; the gateway
//! terminates mTLS and forwards by authority to bb in east, again over
//! mTLS. Both clusters share one trust anchor, each has its own issuer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use strait_control_plane::{ControlPlane, RunningControlPlane};
use strait_destination::ClusterConfig;
use strait_destination_server::connect_embedded;
use strait_identity::{
    Certifier, EmbeddedTokens, IdentityDomain, Issuer, ServiceAccountRef, SigningCa,
};
use strait_policy::IndexConfig;
use strait_policy_server::PluginOffer;
use strait_proxy::{DirectInbound, IdentityConfig, ProxyConfig, RunningProxy, TokenConfig};
use strait_store::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

const NS: &str = "mc-demo";
const GATEWAY_NS: &str = "linkerd-multicluster";
const PATIENCE: Duration = Duration::from_secs(10);
const DAY: Duration = Duration::from_secs(86_400);

fn identity(sa: &str, ns: &str) -> String {
    format!("{sa}.{ns}.serviceaccount.identity.linkerd.cluster.local")
}

fn apply(store: &MemoryStore, object: Value) {
    if let Err(e) = store.apply_json(object, "test") {
        panic!("apply failed: {e}");
    }
}

fn namespaces(store: &MemoryStore) {
    for ns in [NS, "linkerd", GATEWAY_NS] {
        apply(
            store,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        );
    }
}

async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Answers every request with 200 and "bb says hi", one request per
/// connection.
async fn bb_app() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let response = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nbb says hi";
                        if stream.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// One cluster's control plane: an issuer under `root`, tokens
/// `<sa>-token` for the `(namespace, sa)` accounts.
async fn plane(
    name: &str,
    store: &MemoryStore,
    root: &SigningCa,
    accounts: &[(&str, &str)],
) -> RunningControlPlane {
    let issuer = Issuer::generate(root, &format!("identity.{name}"), DAY).unwrap();
    let tokens = EmbeddedTokens::new();
    for (ns, sa) in accounts {
        tokens.register(format!("{sa}-token"), ServiceAccountRef::new(*ns, *sa));
    }
    let clusters = Arc::new(BTreeMap::from([(name.to_string(), store.clone())]));
    ControlPlane::new()
        .with_identity(
            Arc::new(Certifier::new(issuer, IdentityDomain::default())),
            tokens,
        )
        .with_policy(store.clone(), IndexConfig::default(), &PluginOffer::new())
        .with_destination(
            store.clone(),
            name,
            ClusterConfig::default(),
            "linkerd",
            connect_embedded(clusters),
        )
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

struct Spec<'a> {
    sa: &'a str,
    ns: &'a str,
    pod: &'a str,
    ip: &'a str,
    anchors: &'a str,
    plane: SocketAddr,
    inbound: SocketAddr,
    direct: Vec<DirectInbound>,
    gateway: bool,
}

async fn proxy(spec: Spec<'_>) -> RunningProxy {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let workload = json!({"ns": spec.ns, "pod": spec.pod}).to_string();
    let running = strait_proxy::start(ProxyConfig {
        inbound_listen_addr: spec.inbound,
        inbound_direct: spec.direct,
        outbound_listen_addr: any,
        admin_listen_addr: any,
        identity: IdentityConfig {
            local_name: identity(spec.sa, spec.ns),
            trust_anchors_pem: spec.anchors.to_string(),
            token: TokenConfig::Value(format!("{}-token", spec.sa).into_bytes()),
            service_addr: spec.plane.to_string(),
        },
        destination_addr: spec.plane.to_string(),
        destination_context: workload.clone(),
        policy_addr: spec.plane.to_string(),
        policy_workload: workload,
        gateway: spec.gateway,
        metric_labels: BTreeMap::new(),
        detect_timeout: Duration::from_secs(1),
        source_ip: Some(spec.ip.parse().unwrap()),
    })
    .await
    .unwrap();
    assert!(
        running.wait_ready(PATIENCE).await,
        "{} never certified",
        spec.sa
    );
    running
}

async fn request(from: &str, to: SocketAddr, host: &str) -> (u16, String) {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    let Ok(mut stream) = socket.connect(to).await else {
        return (0, String::new());
    };
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

async fn metrics(admin: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(admin).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text).await;
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn west_reaches_bb_in_east_through_the_gateway() {
    let root = SigningCa::generate_root("root.linkerd.cluster.local", DAY).unwrap();
    let anchors = root.as_trust_anchor().to_pem();
    let (east, west) = (MemoryStore::new(), MemoryStore::new());
    namespaces(&east);
    namespaces(&west);
    let bb_port = free_port().await;
    let gateway_port = free_port().await;
    let gateway_identity = identity("linkerd-gateway", GATEWAY_NS);

    // East: bb with no Server (all-unauthenticated), behind its proxy.
    apply(
        &east,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bb-1", "namespace": NS, "labels": {"app": "bb"}},
            "spec": {"serviceAccountName": "bb", "containers": [
                {"name": "bb", "ports": [{"name": "http", "containerPort": bb_port}]},
                {"name": "linkerd-proxy"}
            ]}
        }),
    );
    apply(
        &east,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "bb", "namespace": NS},
            "spec": {"clusterIP": "10.112.0.10", "selector": {"app": "bb"},
                     "ports": [{"name": "http", "port": bb_port, "targetPort": bb_port}]}
        }),
    );
    apply(
        &east,
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "bb-slice", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": "bb"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true},
                           "targetRef": {"kind": "Pod", "name": "bb-1", "namespace": NS}}],
            "ports": [{"name": "http", "port": bb_port, "protocol": "TCP"}]
        }),
    );
    // West: the gateway-mode mirror the service mirror writes.
    apply(
        &west,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "bb-east", "namespace": NS,
                         "labels": {"mirror.linkerd.io/mirrored-service": "true",
                                    "mirror.linkerd.io/cluster-name": "east"},
                         "annotations": {"mirror.linkerd.io/remote-svc-fq-name": "bb.mc-demo.svc.cluster.local"}},
            "spec": {"clusterIP": "10.96.0.20",
                     "ports": [{"name": "http", "port": bb_port, "targetPort": bb_port}]}
        }),
    );
    apply(
        &west,
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "bb-east", "namespace": NS,
                         "labels": {"mirror.linkerd.io/mirrored-service": "true",
                                    "mirror.linkerd.io/cluster-name": "east"},
                         "annotations": {"mirror.linkerd.io/remote-gateway-identity": gateway_identity}},
            "subsets": [{"addresses": [{"ip": "127.0.0.5"}],
                         "ports": [{"name": "http", "port": gateway_port, "protocol": "TCP"}]}]
        }),
    );

    let east_plane = plane(
        "east",
        &east,
        &root,
        &[(NS, "bb"), (GATEWAY_NS, "linkerd-gateway")],
    )
    .await;
    let west_plane = plane("west", &west, &root, &[(NS, "slow-cooker")]).await;
    let app = bb_app().await;
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let bb = proxy(Spec {
        sa: "bb",
        ns: NS,
        pod: "bb-1",
        ip: "127.0.0.1",
        anchors: &anchors,
        plane: east_plane.local_addr(),
        inbound: any,
        direct: vec![DirectInbound {
            listen: format!("127.0.0.1:{bb_port}").parse().unwrap(),
            app,
        }],
        gateway: false,
    })
    .await;
    let gateway_addr: SocketAddr = format!("127.0.0.5:{gateway_port}").parse().unwrap();
    let gateway = proxy(Spec {
        sa: "linkerd-gateway",
        ns: GATEWAY_NS,
        pod: "linkerd-gateway-1",
        ip: "127.0.0.5",
        anchors: &anchors,
        plane: east_plane.local_addr(),
        inbound: gateway_addr,
        direct: Vec::new(),
        gateway: true,
    })
    .await;
    let slow_cooker = proxy(Spec {
        sa: "slow-cooker",
        ns: NS,
        pod: "slow-cooker-1",
        ip: "127.0.0.2",
        anchors: &anchors,
        plane: west_plane.local_addr(),
        inbound: any,
        direct: Vec::new(),
        gateway: false,
    })
    .await;

    let host = format!("bb-east.{NS}.svc.cluster.local:{bb_port}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let answer = loop {
        let answer = request("127.0.0.2", slow_cooker.outbound_addr, &host).await;
        if answer.0 == 200 || tokio::time::Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((answer.0, answer.1.as_str()), (200, "bb says hi"));

    // bb saw the gateway, over mTLS: gateway mode carries the gateway's
    // identity, not the original client's.
    let text = metrics(bb.admin_addr).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("inbound_http_authz_allow_total{")
                && l.contains(&format!("client_id=\"{gateway_identity}\""))),
        "{text}"
    );
    // The gateway serves meshed clients only: plaintext is closed unanswered.
    let (status, _) = request("127.0.0.4", gateway_addr, "bb.mc-demo.svc.cluster.local").await;
    assert_eq!(status, 0);
    drop((bb, gateway, slow_cooker, east_plane, west_plane));
}
