//! The guide's data plane on loopback: a control plane fed by an embedded
//! store, bb's proxy in front of a bb app, slow-cooker's and
//! slow-cooker-evil's proxies calling it by name. Certificates come from
//! the identity service, policy from the policy service, endpoints from
//! the destination service; every hop is a real socket.

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
use tokio::net::TcpListener;

const NS: &str = "mc-demo";
const PATIENCE: Duration = Duration::from_secs(10);
const DAY: Duration = Duration::from_secs(86_400);

fn identity(sa: &str) -> String {
    format!("{sa}.{NS}.serviceaccount.identity.linkerd.cluster.local")
}

fn apply(store: &MemoryStore, object: Value) {
    if let Err(e) = store.apply_json(object, "test") {
        panic!("apply failed: {e}");
    }
}

/// A free loopback port (bound and released), for a port that must be
/// known before its listener exists.
async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// The bb app: answers every HTTP/1.1 request with 200 and its name.
async fn bb_app() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let body = "bb says hi";
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
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

/// The guide's resources: bb's pod, Service and endpoints on `port`, the
/// Server and the AuthorizationPolicy admitting only slow-cooker.
fn guide(store: &MemoryStore, port: u16) {
    for ns in [NS, "linkerd"] {
        apply(
            store,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        );
    }
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bb-1", "namespace": NS, "labels": {"app": "bb"}},
            "spec": {"serviceAccountName": "bb", "containers": [
                {"name": "bb", "ports": [{"name": "http", "containerPort": port}]},
                {"name": "linkerd-proxy"}
            ]}
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "bb", "namespace": NS},
            "spec": {"clusterIP": "10.96.0.10", "selector": {"app": "bb"},
                     "ports": [{"name": "http", "port": port, "targetPort": port}]}
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "bb-slice", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": "bb"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true},
                           "targetRef": {"kind": "Pod", "name": "bb-1", "namespace": NS}}],
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}]
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "policy.linkerd.io/v1beta1", "kind": "Server",
            "metadata": {"namespace": NS, "name": "bb"},
            "spec": {"podSelector": {"matchLabels": {"app": "bb"}}, "port": port}
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
            "metadata": {"namespace": NS, "name": "bb-authz"},
            "spec": {
                "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "bb"},
                "requiredAuthenticationRefs": [
                    {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "bb-good"}
                ]
            }
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
            "metadata": {"namespace": NS, "name": "bb-good"},
            "spec": {"identities": [identity("slow-cooker")]}
        }),
    );
}

/// A control plane with its own trust anchor; tokens `<sa>-token` prove
/// the ServiceAccounts given.
async fn control_plane(store: &MemoryStore, accounts: &[&str]) -> (RunningControlPlane, String) {
    let (running, anchors, _) = control_plane_with_plugins(store, accounts).await;
    (running, anchors)
}

/// [`control_plane`], with the handle that offers authz plugins to proxies.
async fn control_plane_with_plugins(
    store: &MemoryStore,
    accounts: &[&str],
) -> (RunningControlPlane, String, PluginOffer) {
    let plugins = PluginOffer::new();
    let root = SigningCa::generate_root("root.linkerd.cluster.local", DAY).unwrap();
    let issuer = Issuer::generate(&root, "identity.linkerd.cluster.local", DAY).unwrap();
    let anchors = root.as_trust_anchor().to_pem();
    let tokens = EmbeddedTokens::new();
    for sa in accounts {
        tokens.register(format!("{sa}-token"), ServiceAccountRef::new(NS, *sa));
    }
    let clusters = Arc::new(BTreeMap::from([("local".to_string(), store.clone())]));
    let running = ControlPlane::new()
        .with_identity(
            Arc::new(Certifier::new(issuer, IdentityDomain::default())),
            tokens,
        )
        .with_policy(store.clone(), IndexConfig::default(), &plugins)
        .with_destination(
            store.clone(),
            "local",
            ClusterConfig::default(),
            "linkerd",
            connect_embedded(clusters),
        )
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (running, anchors, plugins)
}

struct ProxySpec<'a> {
    sa: &'a str,
    /// The pod's address: outbound connections leave from it.
    ip: &'a str,
    pod: &'a str,
    anchors: &'a str,
    identity_addr: SocketAddr,
    control_addr: SocketAddr,
    direct: Vec<DirectInbound>,
}

async fn proxy(spec: ProxySpec<'_>) -> RunningProxy {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let workload = json!({"ns": NS, "pod": spec.pod}).to_string();
    let config = ProxyConfig {
        inbound_listen_addr: any,
        inbound_direct: spec.direct,
        outbound_listen_addr: any,
        admin_listen_addr: any,
        identity: IdentityConfig {
            local_name: identity(spec.sa),
            trust_anchors_pem: spec.anchors.to_string(),
            token: TokenConfig::Value(format!("{}-token", spec.sa).into_bytes()),
            service_addr: spec.identity_addr.to_string(),
        },
        destination_addr: spec.control_addr.to_string(),
        destination_context: workload.clone(),
        policy_addr: spec.control_addr.to_string(),
        policy_workload: workload,
        gateway: false,
        metric_labels: BTreeMap::from([("namespace".to_string(), NS.to_string())]),
        detect_timeout: Duration::from_secs(1),
        source_ip: Some(spec.ip.parse().unwrap()),
    };
    let running = strait_proxy::start(config).await.unwrap();
    assert!(
        running.wait_ready(PATIENCE).await,
        "{} never certified",
        spec.sa
    );
    running
}

/// One HTTP/1.1 request over a fresh connection; the status code and body.
async fn request(to: SocketAddr, host: &str) -> (u16, String) {
    request_from("127.0.0.1", to, host).await
}

/// `GET path` with `Connection: close`; the body.
async fn get(to: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(to).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    response
}

/// The same from a chosen loopback address, as a pod elsewhere would call.
async fn request_from(from: &str, to: SocketAddr, host: &str) -> (u16, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    let mut stream = socket.connect(to).await.unwrap();
    let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
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

/// Asks until the answer is `expected` (the control plane's indexes fill
/// asynchronously), then returns it.
async fn request_until(to: SocketAddr, host: &str, expected: u16) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answer = request(to, host).await;
        if answer.0 == expected || tokio::time::Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metrics(admin: SocketAddr) -> String {
    get(admin, "/metrics").await
}

/// The value of the first series of `family` whose labels contain every
/// one of `labels`.
fn series(text: &str, family: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// The guide on loopback: the control plane, bb's proxy in front of bb's
/// app, and slow-cooker's and slow-cooker-evil's proxies, all certified.
struct Guide {
    plane: RunningControlPlane,
    plugins: PluginOffer,
    bb: RunningProxy,
    good: RunningProxy,
    evil: RunningProxy,
    /// bb's port (Service, Server and container port alike).
    port: u16,
    /// Where bb's proxy listens for bb's port.
    bb_listen: SocketAddr,
}

async fn guide_mesh() -> Guide {
    let store = MemoryStore::new();
    let port = free_port().await;
    guide(&store, port);
    let (plane, anchors, plugins) =
        control_plane_with_plugins(&store, &["bb", "slow-cooker", "slow-cooker-evil"]).await;
    let app = bb_app().await;
    let bb_listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let spec = |sa, ip, pod, direct| ProxySpec {
        sa,
        ip,
        pod,
        anchors: &anchors,
        identity_addr: plane.local_addr(),
        control_addr: plane.local_addr(),
        direct,
    };
    let direct = vec![DirectInbound {
        listen: bb_listen,
        app,
    }];
    let bb = proxy(spec("bb", "127.0.0.1", "bb-1", direct)).await;
    let good = proxy(spec(
        "slow-cooker",
        "127.0.0.2",
        "slow-cooker-1",
        Vec::new(),
    ))
    .await;
    let evil = proxy(spec(
        "slow-cooker-evil",
        "127.0.0.3",
        "slow-cooker-evil-1",
        Vec::new(),
    ))
    .await;
    Guide {
        plane,
        plugins,
        bb,
        good,
        evil,
        port,
        bb_listen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_cooker_is_admitted_and_everyone_else_is_not() {
    let Guide {
        plane,
        bb,
        good,
        evil,
        port,
        bb_listen,
        ..
    } = guide_mesh().await;
    let host = format!("bb.{NS}.svc.cluster.local:{port}");

    // slow-cooker reaches bb by name, over mTLS, and is admitted.
    let (status, body) = request_until(good.outbound_addr, &host, 200).await;
    assert_eq!((status, body.as_str()), (200, "bb says hi"));
    let before = metrics(bb.admin_addr).await;
    let admitted = |text: &str| {
        series(
            text,
            "inbound_http_authz_allow_total",
            &[
                &format!("client_id=\"{}\"", identity("slow-cooker")),
                "srv_kind=\"server\"",
                "srv_name=\"bb\"",
                "authz_kind=\"authorizationpolicy\"",
                "authz_name=\"bb-authz\"",
            ],
        )
        .unwrap_or(0.0)
    };
    for _ in 0..5 {
        assert_eq!(request(good.outbound_addr, &host).await.0, 200);
    }

    // slow-cooker-evil is authenticated, but not admitted.
    let (status, _) = request(evil.outbound_addr, &host).await;
    assert_eq!(status, 403);
    // A plaintext client straight at bb's port (from another pod's
    // address) has no identity at all.
    let (status, _) = request_from("127.0.0.4", bb_listen, &host).await;
    assert_eq!(status, 403);

    let after = metrics(bb.admin_addr).await;
    assert_eq!(admitted(&after) - admitted(&before), 5.0, "{after}");
    let denied = |text: &str, tls: &str| {
        series(
            text,
            "inbound_http_authz_deny_total",
            &[tls, "srv_name=\"bb\""],
        )
        .unwrap_or(0.0)
    };
    let evil_id = format!("client_id=\"{}\"", identity("slow-cooker-evil"));
    assert_eq!(
        denied(&after, &evil_id) - denied(&before, &evil_id),
        1.0,
        "{after}"
    );
    assert_eq!(
        denied(&after, "no_tls_reason=\"no_tls_from_remote\"")
            - denied(&before, "no_tls_reason=\"no_tls_from_remote\""),
        1.0,
        "{after}"
    );
    assert!(
        after.contains("namespace=\"mc-demo\""),
        "the proxy's own labels are on its metrics: {after}"
    );
    drop((bb, good, evil, plane));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_certified_under_another_trust_anchor_cannot_reach_bb() {
    let store = MemoryStore::new();
    let port = free_port().await;
    guide(&store, port);
    let (plane, anchors) = control_plane(&store, &["bb", "slow-cooker"]).await;
    // A second mesh, with its own root, issues slow-cooker's certificate.
    let (other, other_anchors) = control_plane(&store, &["slow-cooker"]).await;
    let app = bb_app().await;
    let bb_listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let bb = proxy(ProxySpec {
        sa: "bb",
        ip: "127.0.0.1",
        pod: "bb-1",
        anchors: &anchors,
        identity_addr: plane.local_addr(),
        control_addr: plane.local_addr(),
        direct: vec![DirectInbound {
            listen: bb_listen,
            app,
        }],
    })
    .await;
    let foreign = proxy(ProxySpec {
        sa: "slow-cooker",
        ip: "127.0.0.2",
        pod: "slow-cooker-1",
        anchors: &other_anchors,
        identity_addr: other.local_addr(),
        control_addr: plane.local_addr(),
        direct: Vec::new(),
    })
    .await;
    let host = format!("bb.{NS}.svc.cluster.local:{port}");
    // The same name, but bb's certificate does not chain to the foreign
    // proxy's anchor (and the other way round): the handshake fails and
    // the request never reaches bb's app.
    let (status, _) = request_until(foreign.outbound_addr, &host, 502).await;
    assert_eq!(status, 502);
    let text = metrics(bb.admin_addr).await;
    assert_eq!(
        series(
            &text,
            "inbound_http_authz_allow_total",
            &["srv_name=\"bb\""]
        ),
        None,
        "{text}"
    );
    drop((bb, foreign, plane, other));
}

/// The built-in authz plugin with a custom section appended: a different
/// component (another digest) that decides the same way.
fn rebuilt_authz_plugin(tag: &str) -> Vec<u8> {
    strait_default_plugins::fixtures::with_custom_section(
        strait_default_plugins::AUTHZ_DEFAULT,
        "strait-test",
        tag.as_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_pushed_under_load_reaches_bb_with_no_failed_request() {
    let Guide {
        plane,
        plugins,
        bb,
        good,
        evil,
        port,
        ..
    } = guide_mesh().await;
    let host = format!("bb.{NS}.svc.cluster.local:{port}");
    assert_eq!(request_until(good.outbound_addr, &host, 200).await.0, 200);
    assert_eq!(request_until(evil.outbound_addr, &host, 403).await.0, 403);

    // Admitted and refused clients keep calling while new versions are
    // pushed; every answer must stay what the policy says.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caller = |to: SocketAddr, expected: u16| {
        let stop = stop.clone();
        let host = host.clone();
        tokio::spawn(async move {
            let (mut right, mut wrong) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, _) = request(to, &host).await;
                if status == expected {
                    right += 1;
                } else {
                    wrong.push(status);
                }
            }
            (right, wrong)
        })
    };
    let admitted = caller(good.outbound_addr, 200);
    let refused = caller(evil.outbound_addr, 403);
    for version in ["v2", "v3"] {
        tokio::time::sleep(Duration::from_millis(300)).await;
        plugins
            .offer(strait_policy_server::OfferedPlugin {
                kind: strait_policy_server::PluginKind::Authz,
                version: version.to_string(),
                origin: "test push".to_string(),
                wasm: rebuilt_authz_plugin(version).into(),
            })
            .unwrap();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while bb.authz_plugin().active().label != version {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{version} never reached bb"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = admitted.await.unwrap();
    let (denied, admitted_wrongly) = refused.await.unwrap();
    assert!(failed.is_empty(), "admitted requests failed: {failed:?}");
    assert!(
        admitted_wrongly.is_empty(),
        "refused client got: {admitted_wrongly:?}"
    );
    assert!(
        ok > 10 && denied > 10,
        "too little traffic: {ok} admitted, {denied} refused"
    );
    drop((bb, good, evil, plane));
}
