//! Gateway mode on loopback: west's slow-cooker calls `bb-east`, a
//! gateway-mode mirror whose endpoint is east's gateway; the gateway
//! terminates mTLS, authorizes the request by its own Server's policy and
//! forwards it by authority to bb in east, again over mTLS. Both clusters
//! share one trust anchor, each has its own issuer.
//!
//! The client's identity crosses the gateway: the gateway names the
//! client it verified, and bb's proxy, which trusts the gateway's identity
//! alone for that, authorizes each request as its client, so the guide's
//! policy (only slow-cooker) holds in gateway mode.
//!
//! The attacks: a mirror in west forged to name a Service east never
//! exported (the gateway must not relay to it), a Service withdrawn from
//! export (the gateway stops at once), a meshed client the gateway's own
//! policy does not admit, and slow-cooker-evil claiming slow-cooker's
//! identity through the gateway. And a WebSocket, which crosses the
//! gateway as a tunnel through three proxies.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::{Value, json};
use strait_proxy::{DirectInbound, RunningProxy};
use strait_proxy_integration::upgrade_app::{self, OPCODE_BINARY, upgrade_app};
use strait_proxy_integration::{
    CONTROL_PLANE_NS, NS, ProxySpec, any_port, apply, apply_all, bb_workload, connect_from,
    control_plane, free_port, http_get, identity, metrics, namespaces, proxy, request_until,
    trust_root,
};
use strait_store::MemoryStore;
use strait_test_support::guide::{EVIL, SLOW_COOKER};
use strait_test_support::objects::{authorization_policy, mesh_tls_authentication, server};
use strait_test_support::scrape;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GATEWAY_NS: &str = "linkerd-multicluster";
const GATEWAY_IP: &str = "127.0.0.5";

/// A proxy of one of the two clusters, asking that cluster's control plane.
fn spec<'a>(
    sa: &'a str,
    ns: &'a str,
    pod: &'a str,
    ip: &'a str,
    anchors: &'a str,
    plane: SocketAddr,
) -> ProxySpec<'a> {
    ProxySpec {
        sa,
        ns,
        pod,
        ip,
        anchors,
        identity_addr: plane,
        control_addr: plane,
        inbound: any_port(),
        direct: Vec::new(),
        gateway: false,
        metric_labels: BTreeMap::new(),
        tls: None,
        pinned: None,
    }
}

/// bb's Service in east, exported through the gateway or not.
fn bb_service(port: u16, exported: bool) -> Value {
    let labels = if exported {
        json!({"mirror.linkerd.io/exported": "true"})
    } else {
        json!({})
    };
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "bb", "namespace": NS, "labels": labels},
        "spec": {"clusterIP": "10.112.0.10", "selector": {"app": "bb"},
                 "ports": [{"name": "http", "port": port, "targetPort": port}]}
    })
}

/// A gateway-mode mirror in west: `name` stands for `remote_fq_name` in
/// east, its endpoint the gateway. An attacker who can edit mirrors in
/// west writes one naming whatever east Service it likes.
fn mirror(
    west: &MemoryStore,
    name: &str,
    remote_fq_name: &str,
    cluster_ip: &str,
    port: u16,
    gateway_port: u16,
) {
    let labels = json!({"mirror.linkerd.io/mirrored-service": "true",
                        "mirror.linkerd.io/cluster-name": "east"});
    apply(
        west,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS, "labels": labels,
                         "annotations": {"mirror.linkerd.io/remote-svc-fq-name": remote_fq_name}},
            "spec": {"clusterIP": cluster_ip,
                     "ports": [{"name": "http", "port": port, "targetPort": port}]}
        }),
    );
    apply(
        west,
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": NS, "labels": labels,
                         "annotations": {"mirror.linkerd.io/remote-gateway-identity":
                                         identity("linkerd-gateway", GATEWAY_NS)}},
            "subsets": [{"addresses": [{"ip": GATEWAY_IP}],
                         "ports": [{"name": "http", "port": gateway_port, "protocol": "TCP"}]}]
        }),
    );
}

/// The two clusters and their proxies: bb (exported) and `internal` (a
/// second Service over the same pod, never exported) in east behind the
/// gateway; slow-cooker and slow-cooker-evil in west, with the mirror
/// `bb-east` and a forged mirror `internal-east`.
struct Mesh {
    east: MemoryStore,
    bb_port: u16,
    gateway_addr: SocketAddr,
    bb: RunningProxy,
    slow_cooker: RunningProxy,
    evil: RunningProxy,
    _rest: Vec<Box<dyn std::any::Any + Send>>,
}

async fn mesh() -> Mesh {
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let (east, west) = (MemoryStore::new(), MemoryStore::new());
    namespaces(&east, &[NS, CONTROL_PLANE_NS, GATEWAY_NS]);
    namespaces(&west, &[NS, CONTROL_PLANE_NS, GATEWAY_NS]);
    let bb_port = free_port();
    let gateway_port = free_port();

    // East: bb with no Server (all-unauthenticated), behind its proxy,
    // exported; `internal` over the same pod, not exported.
    bb_workload(&east, bb_port, "10.112.0.10");
    apply(&east, bb_service(bb_port, true));
    apply(
        &east,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "internal", "namespace": NS},
            "spec": {"clusterIP": "10.112.0.11", "selector": {"app": "bb"},
                     "ports": [{"name": "http", "port": bb_port, "targetPort": bb_port}]}
        }),
    );
    apply(
        &east,
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "internal-slice", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": "internal"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true},
                           "targetRef": {"kind": "Pod", "name": "bb-1", "namespace": NS}}],
            "ports": [{"name": "http", "port": bb_port, "protocol": "TCP"}]
        }),
    );
    // The gateway's pod, whose port the gateway's Server selects by name.
    apply(
        &east,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "linkerd-gateway-1", "namespace": GATEWAY_NS,
                         "labels": {"app": "linkerd-gateway"}},
            "spec": {"serviceAccountName": "linkerd-gateway", "containers": [
                {"name": "linkerd-proxy",
                 "ports": [{"name": "mc-gateway", "containerPort": gateway_port}]}
            ]}
        }),
    );
    mirror(
        &west,
        "bb-east",
        "bb.mc-demo.svc.cluster.local",
        "10.96.0.20",
        bb_port,
        gateway_port,
    );
    mirror(
        &west,
        "internal-east",
        "internal.mc-demo.svc.cluster.local",
        "10.96.0.21",
        bb_port,
        gateway_port,
    );

    let (east_plane, east_offer) = control_plane(
        "east",
        &east,
        &root,
        &[(NS, "bb"), (GATEWAY_NS, "linkerd-gateway")],
    )
    .await;
    let (west_plane, west_offer) = control_plane(
        "west",
        &west,
        &root,
        &[(NS, "slow-cooker"), (NS, "slow-cooker-evil")],
    )
    .await;
    // bb's app answers GETs as bb does, and takes WebSocket upgrades.
    let app = upgrade_app().await.addr;
    let bb = proxy(ProxySpec {
        direct: vec![DirectInbound {
            listen: format!("127.0.0.1:{bb_port}").parse().unwrap(),
            app,
        }],
        ..spec(
            "bb",
            NS,
            "bb-1",
            "127.0.0.1",
            &anchors,
            east_plane.local_addr(),
        )
    })
    .await;
    let gateway_addr: SocketAddr = format!("{GATEWAY_IP}:{gateway_port}").parse().unwrap();
    let gateway = proxy(ProxySpec {
        inbound: gateway_addr,
        gateway: true,
        ..spec(
            "linkerd-gateway",
            GATEWAY_NS,
            "linkerd-gateway-1",
            GATEWAY_IP,
            &anchors,
            east_plane.local_addr(),
        )
    })
    .await;
    let slow_cooker = proxy(spec(
        "slow-cooker",
        NS,
        "slow-cooker-1",
        "127.0.0.2",
        &anchors,
        west_plane.local_addr(),
    ))
    .await;
    let evil = proxy(spec(
        "slow-cooker-evil",
        NS,
        "slow-cooker-evil-1",
        "127.0.0.3",
        &anchors,
        west_plane.local_addr(),
    ))
    .await;
    Mesh {
        east,
        bb_port,
        gateway_addr,
        bb,
        slow_cooker,
        evil,
        _rest: vec![
            Box::new(gateway),
            Box::new(east_plane),
            Box::new(west_plane),
            Box::new(east_offer),
            Box::new(west_offer),
        ],
    }
}

impl Mesh {
    fn host(&self, service: &str) -> String {
        format!("{service}.{NS}.svc.cluster.local:{}", self.bb_port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn west_reaches_bb_in_east_through_the_gateway() {
    let mesh = mesh().await;
    let gateway_identity = identity("linkerd-gateway", GATEWAY_NS);
    let answer = request_until(
        "127.0.0.2",
        mesh.slow_cooker.outbound_addr,
        &mesh.host("bb-east"),
        200,
    )
    .await;
    assert_eq!((answer.0, answer.1.as_str()), (200, "bb says hi"));

    // bb's proxy authorized slow-cooker, whom the gateway verified and
    // named, not the gateway, though the connection is the gateway's.
    let text = metrics(mesh.bb.admin_addr).await;
    let authorized = |client: &str| {
        text.lines().any(|l| {
            l.starts_with("inbound_http_authz_allow_total{")
                && l.contains(&format!("client_id=\"{client}\""))
        })
    };
    assert!(authorized(SLOW_COOKER), "{text}");
    assert!(!authorized(&gateway_identity), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("tcp_open_total{")
            && l.contains("direction=\"inbound\"")
            && l.contains(&format!("client_id=\"{gateway_identity}\""))),
        "{text}"
    );
    // The gateway serves meshed clients only: plaintext is closed unanswered.
    let (status, _) = http_get(
        "127.0.0.4",
        mesh.gateway_addr,
        "bb.mc-demo.svc.cluster.local",
        "/",
    )
    .await;
    assert_eq!(status, 0);
}

/// The attack of a forged mirror: `internal-east` in west names east's
/// `internal`, which east never exported. Without the export check the
/// gateway relays to it (200); it must answer 403 naming the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_a_service_its_cluster_does_not_export() {
    let mesh = mesh().await;
    let from = mesh.slow_cooker.outbound_addr;
    // bb's export works, so the refusal below is about the export alone.
    assert_eq!(
        request_until("127.0.0.2", from, &mesh.host("bb-east"), 200)
            .await
            .0,
        200
    );
    let (status, body) = request_until("127.0.0.2", from, &mesh.host("internal-east"), 403).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not exported"), "{body}");

    // Withdrawing bb's export closes the gateway to it.
    apply(&mesh.east, bb_service(mesh.bb_port, false));
    let (status, body) = request_until("127.0.0.2", from, &mesh.host("bb-east"), 403).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("service mc-demo/bb is not exported"),
        "{body}"
    );
    // And exporting it again opens it.
    apply(&mesh.east, bb_service(mesh.bb_port, true));
    assert_eq!(
        request_until("127.0.0.2", from, &mesh.host("bb-east"), 200)
            .await
            .0,
        200
    );
}

/// The gateway authorizes with a Server and policy of its own: with one
/// admitting only slow-cooker's identity, slow-cooker-evil (meshed, in a
/// linked cluster) is refused at the gateway, before anything is
/// forwarded. Without it, any meshed client of a linked cluster passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_authorizes_with_its_own_server() {
    let mesh = mesh().await;
    let host = mesh.host("bb-east");
    assert_eq!(
        request_until("127.0.0.3", mesh.evil.outbound_addr, &host, 200)
            .await
            .0,
        200
    );
    apply_all(
        &mesh.east,
        [
            server(
                GATEWAY_NS,
                "linkerd-gateway",
                "linkerd-gateway",
                "mc-gateway",
            ),
            authorization_policy(GATEWAY_NS, "linkerd-gateway", "linkerd-gateway", "linked"),
            mesh_tls_authentication(GATEWAY_NS, "linked", &[SLOW_COOKER]),
        ],
    );
    let (status, body) = request_until("127.0.0.3", mesh.evil.outbound_addr, &host, 403).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = http_get("127.0.0.2", mesh.slow_cooker.outbound_addr, &host, "/").await;
    assert_eq!((status, body.as_str()), (200, "bb says hi"));
}

/// A WebSocket from west to bb in east through the gateway: the upgrade is
/// authorized at the gateway and at bb's proxy, each hop a connection of
/// its own, and the frames echo through the three proxies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_reaches_bb_through_the_gateway() {
    let mesh = mesh().await;
    let host = mesh.host("bb-east");
    let from = mesh.slow_cooker.outbound_addr;
    assert_eq!(request_until("127.0.0.2", from, &host, 200).await.0, 200);
    let mut client = connect_from("127.0.0.2", from).await;
    let head = upgrade_app::handshake(&mut client, &host, "/ws", "websocket")
        .await
        .unwrap()
        .expect("the handshake is answered");
    assert_eq!(upgrade_app::status(&head), 101, "{head}");
    assert_eq!(
        upgrade_app::header(&head, "upgrade").as_deref(),
        Some("websocket"),
        "{head}"
    );
    for size in [3usize, 1_000, 100_000] {
        let payload = vec![0x5a; size];
        let echoed = upgrade_app::echo(&mut client, &payload).await.unwrap();
        assert_eq!(echoed, Some((OPCODE_BINARY, payload)), "size {size}");
    }
}

/// One request from `from` through its proxy at `to`, with
/// `l5d-client-id: claimed`: what an application that wants another's
/// identity sends. The answer's status line.
async fn claiming(from: &str, to: SocketAddr, host: &str, claimed: &str) -> String {
    let mut stream = connect_from(from, to).await;
    let request = format!(
        "GET / HTTP/1.1\r\nhost: {host}\r\nl5d-client-id: {claimed}\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    answer.lines().next().unwrap_or_default().to_string()
}

/// The guide's policy in gateway mode: bb admits only slow-cooker's
/// identity, and east's gateway (whose own Server admits every meshed
/// client) forwards both west clients. slow-cooker is admitted as itself
/// and slow-cooker-evil refused by bb's proxy, with the metrics naming
/// each. The attack: slow-cooker-evil's application sends `l5d-client-id`
/// naming slow-cooker; the gateway names the client it verified instead,
/// and bb refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_policy_holds_through_the_gateway() {
    let mesh = mesh().await;
    let host = mesh.host("bb-east");
    assert_eq!(
        request_until("127.0.0.3", mesh.evil.outbound_addr, &host, 200)
            .await
            .0,
        200
    );
    apply_all(
        &mesh.east,
        [
            server(NS, "bb", "bb", "http"),
            authorization_policy(NS, "bb-authz", "bb", "bb-good"),
            mesh_tls_authentication(NS, "bb-good", &[SLOW_COOKER]),
        ],
    );
    let (status, body) = request_until("127.0.0.3", mesh.evil.outbound_addr, &host, 403).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("unauthorized"), "{body}");
    for _ in 0..5 {
        let (status, body) =
            http_get("127.0.0.2", mesh.slow_cooker.outbound_addr, &host, "/").await;
        assert_eq!((status, body.as_str()), (200, "bb says hi"));
    }
    for _ in 0..5 {
        let status = claiming("127.0.0.3", mesh.evil.outbound_addr, &host, SLOW_COOKER).await;
        assert!(status.contains(" 403 "), "{status}");
    }

    let text = metrics(mesh.bb.admin_addr).await;
    let count = |family: &str, client: &str| {
        let client = format!("client_id=\"{client}\"");
        scrape::sum(&text, family, &[&client, "srv_name=\"bb\""])
    };
    assert_eq!(
        count("inbound_http_authz_allow_total", SLOW_COOKER),
        5.0,
        "{text}"
    );
    assert_eq!(count("inbound_http_authz_allow_total", EVIL), 0.0, "{text}");
    assert!(
        count("inbound_http_authz_deny_total", EVIL) >= 6.0,
        "{text}"
    );
    assert_eq!(
        count("inbound_http_authz_deny_total", SLOW_COOKER),
        0.0,
        "{text}"
    );
}
