//! The guide's policy between proxies in real pods: network namespaces on
//! a bridge, the init container's iptables rules in each, the sidecars run
//! inside as the proxy's user, nothing bound directly. strait's proxy
//! against strait's proxy always; with `LINKERD2_PROXY_BIN` naming a
//! `linkerd2-proxy` binary, Linkerd's own proxy as the server of
//! strait's client and as the client of strait's server, each against
//! strait's control plane (certificates, discovery, inbound and outbound
//! policy), over TLS and over each pod's loopback in plaintext.
//!
//! slow-cooker's requests must all be admitted, slow-cooker-evil's all
//! refused with 403, and `viz` must read both proxies' metrics; on an
//! opaque port, slow-cooker's bytes must be echoed and evil's connections
//! refused.
//!
//! Needs root, `ip`, `nsenter` and iptables: without them the tests say why
//! they skipped, except in CI (`STRAIT_REQUIRE_TOOLS`), where they fail.
//! Without `LINKERD2_PROXY_BIN` the Linkerd rows say so and pass: the
//! binary is built from Linkerd's source, outside this repository
//! (`core/proxy/integration/benches/pods.sh` runs them when given one).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use strait_proxy_integration::apps::{echo_app_on, echo_exchange};
use strait_proxy_integration::pods::{
    AUTHORITY, CLUSTER_IP, LINKERD2_PROXY_BIN, OPAQUE_PORT, PORT, PodProxy, Sidecar, Workload,
    guide_in_pods, init_pod, loopback_control_plane, start_proxy, wait_ready,
};
use strait_proxy_integration::{ControlAddrs, NS, bb_app_on, tls_control_plane_at, trust_root};
use strait_store::MemoryStore;
use strait_test_support::netns::{Node, Pod, why_unavailable};
use strait_viz::{PodScrapes, Query, ResourceKind, Scrape, parse_metrics};

const REQUESTS: usize = 40;

/// How the proxies reach the control plane.
#[derive(Clone, Copy, Debug)]
enum Plane {
    /// On the node's address, identity over TLS, destination and policy
    /// over mTLS, each verified by name: as on a cluster.
    Tls,
    /// On each pod's own loopback, in plaintext.
    Loopback,
}

/// The node, or `None` (said) where namespaces cannot be made here.
fn node() -> Option<Node> {
    if let Some(reason) = why_unavailable() {
        strait_test_support::tool_missing!("{reason}");
        return None;
    }
    match Node::new(&["bb", "slow-cooker", "evil"]) {
        Ok(node) => Some(node),
        Err(e) => {
            strait_test_support::tool_missing!("cannot build pods here: {e}");
            None
        }
    }
}

/// strait's proxy, built beside these tests.
fn strait() -> Sidecar {
    Sidecar::Strait(env!("CARGO_BIN_EXE_pod-proxy").into())
}

/// Linkerd's proxy, or `None` with the reason printed.
fn linkerd() -> Option<Sidecar> {
    let found = Sidecar::linkerd();
    if found.is_none() {
        eprintln!(
            "SKIPPED: {LINKERD2_PROXY_BIN} names no linkerd2-proxy binary; the rows with Linkerd's \
             proxy did not run"
        );
    }
    found
}

/// What the clients send to bb's opaque port: not HTTP, so no proxy takes
/// it for a request.
const SENT: &[u8] = b"\x00\x01opaque bytes, not a request\n";

const ACCOUNTS: [(&str, &str); 3] = [(NS, "bb"), (NS, "slow-cooker"), (NS, "slow-cooker-evil")];

/// The running scene: control planes, the app and the three proxies.
struct Scene {
    _planes: Vec<strait_control_plane::RunningControlPlane>,
    _tls: Option<strait_proxy_integration::TlsControlPlane>,
    _dir: TempDir,
    bb: PodProxy,
    client: PodProxy,
    evil: PodProxy,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn scene(node: &Node, server: &Sidecar, client: &Sidecar, plane: Plane) -> Scene {
    for name in ["bb", "slow-cooker", "evil"] {
        if let Err(e) = init_pod(node.pod(name)) {
            panic!("{e}");
        }
    }
    let store = MemoryStore::new();
    guide_in_pods(
        &store,
        node,
        &[
            ("bb", "bb"),
            ("slow-cooker", "slow-cooker"),
            ("evil", "slow-cooker-evil"),
        ],
    );
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let dir = std::env::temp_dir().join(format!(
        "strait-pods-{}-{}",
        std::process::id(),
        node.gateway()
    ));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("{}: {e}", dir.display());
    }
    let offer = strait_plugin_distribution::PluginOffer::new();
    let mut planes = Vec::new();
    let mut tls = None;
    let mut plane_of: std::collections::BTreeMap<&str, ControlAddrs> =
        std::collections::BTreeMap::new();
    match plane {
        Plane::Tls => {
            let running =
                tls_control_plane_at("local", &store, &root, &ACCOUNTS, node.gateway().into())
                    .await;
            for name in ["bb", "slow-cooker", "evil"] {
                plane_of.insert(name, running.addrs());
            }
            tls = Some(running);
        }
        Plane::Loopback => {
            for name in ["bb", "slow-cooker", "evil"] {
                let (running, addrs) =
                    loopback_control_plane(node.pod(name), &store, &root, &ACCOUNTS, &offer).await;
                planes.push(running);
                plane_of.insert(name, addrs);
            }
        }
    }
    let app = node.pod("bb").bind(SocketAddr::from(([0, 0, 0, 0], PORT)));
    bb_app_on(tokio::net::TcpListener::from_std(app).unwrap_or_else(|e| panic!("{e}")));
    let echo = node
        .pod("bb")
        .bind(SocketAddr::from(([0, 0, 0, 0], OPAQUE_PORT)));
    echo_app_on(tokio::net::TcpListener::from_std(echo).unwrap_or_else(|e| panic!("{e}")));

    let workload = |pod: &'static str, sa: &'static str| Workload {
        ns: NS,
        pod,
        sa,
        ports: &[PORT],
    };
    let started = Instant::now();
    let bb = start_proxy(
        server,
        node.pod("bb"),
        &workload("bb-1", "bb"),
        &anchors,
        &plane_of["bb"],
        &dir,
    );
    let client_proxy = start_proxy(
        client,
        node.pod("slow-cooker"),
        &workload("slow-cooker-1", "slow-cooker"),
        &anchors,
        &plane_of["slow-cooker"],
        &dir,
    );
    let evil = start_proxy(
        client,
        node.pod("evil"),
        &workload("evil-1", "slow-cooker-evil"),
        &anchors,
        &plane_of["evil"],
        &dir,
    );
    let mut scene = Scene {
        _planes: planes,
        _tls: tls,
        _dir: TempDir(dir),
        bb,
        client: client_proxy,
        evil,
    };
    let node_ip = node.gateway().into();
    for proxy in [&mut scene.bb, &mut scene.client, &mut scene.evil] {
        wait_ready(proxy, node_ip).await;
    }
    eprintln!(
        "{} server, {} clients ({plane:?}): all ready {} ms after start",
        server.name(),
        client.name(),
        started.elapsed().as_millis()
    );
    scene
}

/// Bytes sent from inside `pod` to bb's opaque port (not HTTP, so no
/// proxy takes them for a request) and what came back before the echo
/// was complete, the connection closed, or 2 s passed.
async fn echo(pod: &Pod) -> Vec<u8> {
    let to: SocketAddr = format!("{CLUSTER_IP}:{OPAQUE_PORT}")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    match pod.connect(to) {
        Ok(mut stream) => echo_exchange(&mut stream, SENT).await,
        Err(_) => Vec::new(),
    }
}

/// Opaque TCP through the scene: slow-cooker's bytes come back from bb's
/// echo, evil's connections end with nothing.
async fn opaque_holds(node: &Node, scene: &Scene, what: &str) {
    let sent = SENT;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let back = echo(node.pod("slow-cooker")).await;
        let evil = echo(node.pod("evil")).await;
        if back == sent && evil.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "{what}: opaque TCP: slow-cooker got {:?}, evil got {:?};\nbb's proxy logged:\n{}\nslow-cooker's proxy logged:\n{}",
                String::from_utf8_lossy(&back),
                String::from_utf8_lossy(&evil),
                scene.bb.logged(),
                scene.client.logged()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..10 {
        assert_eq!(
            echo(node.pod("slow-cooker")).await,
            sent,
            "{what}: slow-cooker's opaque bytes"
        );
        assert!(
            echo(node.pod("evil")).await.is_empty(),
            "{what}: evil's opaque connection must be refused"
        );
    }
}

/// `GET /` to bb's Service from inside `pod`, as its application calls it:
/// to the ClusterIP, which the pod's rules send to its proxy.
async fn get(pod: &Pod) -> (u16, String) {
    let to: SocketAddr = format!("{CLUSTER_IP}:{PORT}")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    match pod.connect(to) {
        Ok(stream) => strait_test_support::net::http_get_over(stream, AUTHORITY, "/").await,
        Err(_) => (0, String::new()),
    }
}

async fn scrape(proxy: &PodProxy, node: &Node) -> Scrape {
    let (status, text) =
        strait_test_support::net::http_get(node.gateway().into(), proxy.admin, "admin", "/metrics")
            .await;
    assert_eq!(status, 200, "{}'s metrics", proxy.sidecar.name());
    let samples = parse_metrics(&text).unwrap_or_else(|e| {
        panic!(
            "viz cannot read the {} proxy's metrics: {e}",
            proxy.sidecar.name()
        )
    });
    Scrape {
        at: SystemTime::now(),
        samples,
    }
}

fn pod_scrapes(name: &str, deployment: &str, first: Scrape, last: Scrape) -> PodScrapes {
    PodScrapes {
        namespace: NS.into(),
        pod: name.into(),
        deployment: Some(deployment.into()),
        replicaset: None,
        statefulset: None,
        meshed: true,
        ready: true,
        first: Some(first),
        last: Some(last),
    }
}

/// The guide through the scene: every request of slow-cooker admitted,
/// every one of evil refused with 403, read by the clients and by `viz`
/// from both sides' proxies.
async fn the_guide_holds(node: &Node, server: Sidecar, client: Sidecar, plane: Plane) {
    let scene = scene(node, &server, &client, plane).await;
    let what = format!(
        "{} client -> {} server ({plane:?})",
        client.name(),
        server.name()
    );
    // The indexes fill asynchronously, and a proxy serves its default
    // policy until it has the port's: wait until slow-cooker is admitted
    // and evil refused once.
    let deadline = Instant::now() + Duration::from_secs(20);
    let started = Instant::now();
    loop {
        let (status, _) = get(node.pod("slow-cooker")).await;
        let (evil, _) = get(node.pod("evil")).await;
        if status == 200 && evil == 403 {
            eprintln!(
                "{what}: the policy held {} ms after the proxies were ready",
                started.elapsed().as_millis()
            );
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "{what}: slow-cooker never reached bb (last {status});\nbb's proxy:\n{}\nslow-cooker's proxy:\n{}",
                scene.bb.logged(),
                scene.client.logged()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bb_before = scrape(&scene.bb, node).await;
    let client_before = scrape(&scene.client, node).await;
    let mut admitted = 0;
    let mut refused = 0;
    for _ in 0..REQUESTS {
        let (status, body) = get(node.pod("slow-cooker")).await;
        assert_eq!(
            (status, body.as_str()),
            (200, "bb says hi"),
            "{what}: slow-cooker"
        );
        admitted += 1;
        let (status, _) = get(node.pod("evil")).await;
        if status != 403 {
            panic!(
                "{what}: slow-cooker-evil must be refused with 403, got {status}; bb's authz series:\n{}\nbb's proxy logged:\n{}",
                authz_lines(&scene.bb, node).await,
                scene.bb.logged()
            );
        }
        refused += 1;
    }
    assert_eq!((admitted, refused), (REQUESTS, REQUESTS));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let bb_after = scrape(&scene.bb, node).await;
    let client_after = scrape(&scene.client, node).await;

    // viz reads bb's proxy: bb admitted slow-cooker's requests, all
    // answered 200, and refused evil's.
    let window = Duration::from_secs(60);
    let bb_pod = pod_scrapes("bb-1", "bb", bb_before, bb_after);
    let query = |resource, name: &str| Query {
        namespace: Some(NS.into()),
        resource,
        name: Some(name.into()),
        window,
    };
    let stat = strait_viz::stat_from_scrapes(
        &query(ResourceKind::Deployment, "bb"),
        std::slice::from_ref(&bb_pod),
    );
    let row = stat
        .first()
        .and_then(|row| row.stats.as_ref())
        .unwrap_or_else(|| panic!("{what}: viz stat shows no traffic into bb: {stat:?}"));
    assert_eq!(row.success_rate, 1.0, "{what}: bb's success rate, {row:?}");
    assert!(row.request_rate > 0.0, "{what}: {row:?}");
    let authz = strait_viz::authz_from_scrapes(&query(ResourceKind::Deployment, "bb"), &[bb_pod]);
    let admitted_rate: f64 = authz.iter().map(|r| r.request_rate).sum();
    let refused_rate: f64 = authz.iter().map(|r| r.unauthorized_rate).sum();
    assert!(
        admitted_rate > 0.0 && refused_rate > 0.0,
        "{what}: viz authz must show bb admitting and refusing: {authz:?}\nbb's series:\n{}",
        authz_lines(&scene.bb, node).await
    );
    // ...and slow-cooker's: its outbound side saw every request answered 200.
    let outbound_ok = outbound_increase(&client_before, &client_after, "200");
    assert!(
        outbound_ok >= REQUESTS as f64,
        "{what}: slow-cooker's proxy counted {outbound_ok} outbound 200s, expected at least {REQUESTS}"
    );
    // bb's opaque port is reached through bb's proxy's inbound port behind
    // Linkerd's transport header, whichever proxy is on either side.
    opaque_holds(node, &scene, &what).await;
    let opaque = "opaque TCP echoed for slow-cooker only";
    eprintln!(
        "{what}: {admitted} admitted, {refused} refused, {opaque}; viz: bb {:.1} rps admitted, {:.1} rps refused",
        admitted_rate, refused_rate
    );
}

/// bb's proxy's authorization and policy series, for a failure message.
async fn authz_lines(proxy: &PodProxy, node: &Node) -> String {
    let (_, text) =
        strait_test_support::net::http_get(node.gateway().into(), proxy.admin, "admin", "/metrics")
            .await;
    text.lines()
        .filter(|l| l.contains("authz") || l.contains("inbound_http_errors"))
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The outbound responses with `status` a client proxy counted between two
/// scrapes, in Linkerd's `response_total` family.
fn outbound_increase(before: &Scrape, after: &Scrape, status: &str) -> f64 {
    let sum = |scrape: &Scrape| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| {
                s.name == "response_total"
                    && s.label("direction") == "outbound"
                    && s.label("status_code") == status
            })
            .map(|s| s.value)
            .sum()
    };
    sum(after) - sum(before)
}

fn runtime() -> tokio::runtime::Runtime {
    // The control plane's own log, when `RUST_LOG` asks for it.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn strait_proxies_in_pods_hold_the_guides_policy_over_tls() {
    let Some(node) = node() else { return };
    runtime().block_on(the_guide_holds(&node, strait(), strait(), Plane::Tls));
}

#[test]
fn strait_proxies_in_pods_hold_the_guides_policy_over_loopback() {
    let Some(node) = node() else { return };
    runtime().block_on(the_guide_holds(&node, strait(), strait(), Plane::Loopback));
}

#[test]
fn a_linkerd2_proxy_server_holds_the_guides_policy_for_strait_clients() {
    let Some(linkerd) = linkerd() else { return };
    let Some(node) = node() else { return };
    for plane in [Plane::Tls, Plane::Loopback] {
        runtime().block_on(the_guide_holds(&node, linkerd.clone(), strait(), plane));
    }
}

#[test]
fn a_strait_server_holds_the_guides_policy_for_linkerd2_proxy_clients() {
    let Some(linkerd) = linkerd() else { return };
    let Some(node) = node() else { return };
    for plane in [Plane::Tls, Plane::Loopback] {
        runtime().block_on(the_guide_holds(&node, strait(), linkerd.clone(), plane));
    }
}
