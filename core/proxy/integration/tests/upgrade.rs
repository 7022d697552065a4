//! HTTP upgrades through a proxy pair, over real sockets: slow-cooker's
//! app speaks to its outbound proxy, which carries the upgrade request as
//! HTTP/1.1 over an mTLS connection of its own to bb's proxy, which
//! authorizes it and hands it to bb's app; after the app's `101` (or `2xx`
//! to `CONNECT`) the bytes flow both ways through both proxies.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use strait_control_plane::RunningControlPlane;
use strait_plugin_distribution::PluginOffer;
use strait_proxy::{DirectInbound, RunningProxy};
use strait_proxy_integration::upgrade_app::{
    self, AppLog, OPCODE_BINARY, OPCODE_CLOSE, UpgradeApp, WEBSOCKET_KEY, accept_key, read_body,
    read_frame, upgrade_app,
};
use strait_proxy_integration::{
    NS, PATIENCE, ProxySpec, any_port, connect_from, free_port, guide, http_get, identity, metrics,
    proxy, request_until, trust_root,
};
use strait_store::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// slow-cooker's pod address, admitted by bb's policy.
const GOOD_IP: &str = "127.0.0.2";
/// slow-cooker-evil's pod address, refused by it.
const EVIL_IP: &str = "127.0.0.3";

/// How long a tunnel's far end may take to see the near end close.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

/// The guide's bb behind its proxy, with an app that takes upgrades, and
/// the proxies of slow-cooker and slow-cooker-evil.
struct Mesh {
    bb: RunningProxy,
    good: RunningProxy,
    evil: RunningProxy,
    app: UpgradeApp,
    port: u16,
    bb_listen: SocketAddr,
    _plane: (RunningControlPlane, PluginOffer),
}

impl Mesh {
    fn host(&self) -> String {
        format!("bb.{NS}.svc.cluster.local:{}", self.port)
    }

    fn log(&self) -> &AppLog {
        &self.app.log
    }

    /// A connection from slow-cooker's app to its proxy, once bb answers
    /// it (the control plane's indexes fill asynchronously).
    async fn good_client(&self) -> TcpStream {
        let (status, body) =
            request_until(GOOD_IP, self.good.outbound_addr, &self.host(), 200).await;
        assert_eq!((status, body.as_str()), (200, "bb says hi"));
        connect_from(GOOD_IP, self.good.outbound_addr).await
    }
}

fn spec<'a>(
    sa: &'a str,
    ip: &'a str,
    pod: &'a str,
    anchors: &'a str,
    plane: &RunningControlPlane,
    direct: Vec<DirectInbound>,
) -> ProxySpec<'a> {
    ProxySpec {
        sa,
        ns: NS,
        pod,
        ip,
        anchors,
        identity_addr: plane.local_addr(),
        control_addr: plane.local_addr(),
        inbound: any_port(),
        direct,
        gateway: false,
        metric_labels: BTreeMap::new(),
        tls: None,
        pinned: None,
    }
}

async fn mesh() -> Mesh {
    let store = MemoryStore::new();
    let port = free_port();
    guide(&store, port);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let accounts = [(NS, "bb"), (NS, "slow-cooker"), (NS, "slow-cooker-evil")];
    let (plane, offer) =
        strait_proxy_integration::control_plane("local", &store, &root, &accounts).await;
    let app = upgrade_app().await;
    let bb_listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let direct = vec![DirectInbound {
        listen: bb_listen,
        app: app.addr,
    }];
    let bb = proxy(spec("bb", "127.0.0.1", "bb-1", &anchors, &plane, direct)).await;
    let good = proxy(spec(
        "slow-cooker",
        GOOD_IP,
        "slow-cooker-1",
        &anchors,
        &plane,
        Vec::new(),
    ))
    .await;
    let evil = proxy(spec(
        "slow-cooker-evil",
        EVIL_IP,
        "slow-cooker-evil-1",
        &anchors,
        &plane,
        Vec::new(),
    ))
    .await;
    Mesh {
        bb,
        good,
        evil,
        app,
        port,
        bb_listen,
        _plane: (plane, offer),
    }
}

/// The value of the first series of `family` whose labels contain every
/// one of `labels` (0 when there is none).
fn series(text: &str, family: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// A WebSocket handshake for `path`, which must be answered 101 with the
/// app's headers carried through both proxies.
async fn websocket(stream: &mut TcpStream, host: &str, path: &str) {
    let head = upgrade_app::handshake(stream, host, path, "websocket")
        .await
        .expect("the handshake is sent")
        .expect("the handshake is answered");
    assert_eq!(upgrade_app::status(&head), 101, "{head}");
    let header = |name| upgrade_app::header(&head, name);
    assert_eq!(header("upgrade").as_deref(), Some("websocket"), "{head}");
    assert!(
        header("connection").is_some_and(|c| c.eq_ignore_ascii_case("upgrade")),
        "{head}"
    );
    assert_eq!(
        header("sec-websocket-accept"),
        Some(accept_key(WEBSOCKET_KEY)),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_echoes_through_the_proxy_pair() {
    let mesh = mesh().await;
    let mut client = mesh.good_client().await;
    websocket(&mut client, &mesh.host(), "/ws").await;
    // Lengths in every size class of the frame header (7-bit, 16-bit and
    // 64-bit), and a large one that spans many TLS records.
    for size in [0usize, 5, 125, 126, 300, 65_535, 70_000, 300_000] {
        let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let echoed = upgrade_app::echo(&mut client, &payload)
            .await
            .expect("the echo arrives");
        assert_eq!(echoed, Some((OPCODE_BINARY, payload)), "size {size}");
    }
    client
        .write_all(&upgrade_app::frame(OPCODE_CLOSE, b"", Some([1, 2, 3, 4])))
        .await
        .unwrap();
    let answer = read_frame(&mut client).await.unwrap();
    assert_eq!(answer, Some((OPCODE_CLOSE, Vec::new())));
    // The app closed its end: the client sees the end of the stream.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(CLOSE_PATIENCE, client.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?} {rest:?}");
    assert_eq!(mesh.log().upgrades(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_tunnels_raw_bytes_through_the_proxy_pair() {
    let mesh = mesh().await;
    let mut client = mesh.good_client().await;
    let head = upgrade_app::connect(&mut client, &mesh.host())
        .await
        .unwrap()
        .expect("CONNECT is answered");
    assert_eq!(upgrade_app::status(&head), 200, "{head}");
    assert!(
        upgrade_app::header(&head, "content-length").is_none(),
        "{head}"
    );
    // Not HTTP: whatever bytes the client sends come back.
    for chunk in [
        &b"hello"[..],
        b"\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        &[0u8; 40_000],
    ] {
        client.write_all(chunk).await.unwrap();
        let mut back = vec![0u8; chunk.len()];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(back, chunk);
    }
    // The client's half-close reaches the app, whose close comes back.
    client.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(CLOSE_PATIENCE, client.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
    assert_eq!((mesh.log().upgrades(), mesh.log().closed()), (1, 1));
}

/// The upgrade request is authorized like any request: slow-cooker-evil
/// is refused with 403 and nothing is upgraded, its connection staying
/// HTTP; slow-cooker, on the same mesh, is upgraded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_the_policy_refuses_gets_403_and_no_upgrade() {
    let mesh = mesh().await;
    let mut good = mesh.good_client().await;
    websocket(&mut good, &mesh.host(), "/ws").await;
    assert_eq!(mesh.log().upgrades(), 1);

    let mut evil = connect_from(EVIL_IP, mesh.evil.outbound_addr).await;
    for _ in 0..2 {
        let head = upgrade_app::handshake(&mut evil, &mesh.host(), "/ws", "websocket")
            .await
            .unwrap()
            .expect("the refusal is answered");
        assert_eq!(upgrade_app::status(&head), 403, "{head}");
        assert!(upgrade_app::header(&head, "upgrade").is_none(), "{head}");
        let body = read_body(&mut evil, &head).await.unwrap();
        assert_eq!(body, "unauthorized request on route\n");
    }
    // A CONNECT too.
    let head = upgrade_app::connect(&mut evil, &mesh.host())
        .await
        .unwrap()
        .expect("the refusal is answered");
    assert_eq!(upgrade_app::status(&head), 403, "{head}");
    // And a plaintext client straight at bb's port.
    let mut plain = connect_from("127.0.0.4", mesh.bb_listen).await;
    let head = upgrade_app::handshake(&mut plain, &mesh.host(), "/ws", "websocket")
        .await
        .unwrap()
        .expect("the refusal is answered");
    assert_eq!(upgrade_app::status(&head), 403, "{head}");
    assert_eq!(mesh.log().upgrades(), 1, "the app saw a refused upgrade");

    // slow-cooker's tunnel is unaffected.
    let echoed = upgrade_app::echo(&mut good, b"still here").await.unwrap();
    assert_eq!(echoed, Some((OPCODE_BINARY, b"still here".to_vec())));
}

/// An upgrade the app declines is answered as any response, and the
/// connection goes on as HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_the_app_declines_is_answered_normally() {
    let mesh = mesh().await;
    let mut client = mesh.good_client().await;
    let head = upgrade_app::handshake(&mut client, &mesh.host(), "/ws", "no-such-protocol")
        .await
        .unwrap()
        .expect("the answer comes");
    assert_eq!(upgrade_app::status(&head), 400, "{head}");
    assert_eq!(
        read_body(&mut client, &head).await.unwrap(),
        "no such protocol\n"
    );
    client
        .write_all(format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", mesh.host()).as_bytes())
        .await
        .unwrap();
    let head = upgrade_app::read_head(&mut client).await.unwrap().unwrap();
    assert_eq!(upgrade_app::status(&head), 200, "{head}");
    assert_eq!(read_body(&mut client, &head).await.unwrap(), "bb says hi");
    assert_eq!(mesh.log().upgrades(), 0);
}

/// Either end closing a tunnel closes the other: the app closing right
/// after its 101 ends the client's stream; the client going away ends the
/// app's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_closing_closes_the_other_half() {
    let mesh = mesh().await;
    let mut client = mesh.good_client().await;
    websocket(&mut client, &mesh.host(), "/ws-close").await;
    let mut rest = Vec::new();
    let read = tokio::time::timeout(CLOSE_PATIENCE, client.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?} {rest:?}");

    let mut client = connect_from(GOOD_IP, mesh.good.outbound_addr).await;
    websocket(&mut client, &mesh.host(), "/ws").await;
    let closed = mesh.log().closed();
    drop(client);
    let deadline = tokio::time::Instant::now() + CLOSE_PATIENCE;
    while mesh.log().closed() == closed {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the app never saw the client go"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// As Linkerd counts it: the upgrade is one request, answered 101, on
/// both sides; the bytes of the tunnel are the TCP bytes of the
/// connection it took over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_is_one_request_and_its_bytes_are_tcp_bytes() {
    let mesh = mesh().await;
    let mut client = mesh.good_client().await;
    let authority = format!("authority=\"{}\"", mesh.host());
    let client_id = format!("client_id=\"{}\"", identity("slow-cooker", NS));
    let inbound = ["direction=\"inbound\"", &authority, &client_id];
    let inbound_tcp = ["direction=\"inbound\"", "srv_name=\"bb\"", &client_id];
    let outbound = ["direction=\"outbound\"", &authority];
    let (bb_before, good_before) = (
        metrics(mesh.bb.admin_addr).await,
        metrics(mesh.good.admin_addr).await,
    );

    websocket(&mut client, &mesh.host(), "/ws").await;
    let payload = vec![7u8; 100_000];
    for _ in 0..3 {
        let echoed = upgrade_app::echo(&mut client, &payload).await.unwrap();
        assert_eq!(echoed.map(|(_, p)| p.len()), Some(payload.len()));
    }
    let sent = 3.0 * payload.len() as f64;
    // While the tunnel runs, the connections it took over are open ones:
    // bb's proxy has slow-cooker's pooled connection and this one.
    let open = |text: &str, labels: &[&str]| series(text, "tcp_open_connections", labels);
    let (bb_during, good_during) = (
        metrics(mesh.bb.admin_addr).await,
        metrics(mesh.good.admin_addr).await,
    );
    assert_eq!(
        open(&bb_during, &inbound_tcp),
        open(&bb_before, &inbound_tcp) + 1.0,
        "{bb_during}"
    );
    assert_eq!(open(&good_during, &outbound), 1.0, "{good_during}");
    drop(client);
    // Wait for both proxies to see the tunnel end.
    let closed = |text: &str, labels: &[&str]| series(text, "tcp_close_total", labels);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let (bb, good) = loop {
        let bb = metrics(mesh.bb.admin_addr).await;
        let good = metrics(mesh.good.admin_addr).await;
        if closed(&good, &outbound) >= 1.0
            && closed(&bb, &inbound_tcp) > closed(&bb_before, &inbound_tcp)
        {
            break (bb, good);
        }
        assert!(tokio::time::Instant::now() < deadline, "{good}\n{bb}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let delta = |after: &str, before: &str, family: &str, labels: &[&str]| {
        series(after, family, labels) - series(before, family, labels)
    };
    fn status_101<'a>(labels: &[&'a str]) -> Vec<&'a str> {
        let mut labels = labels.to_vec();
        labels.push("status_code=\"101\"");
        labels
    }

    for (side, after, before, labels) in [
        ("bb's inbound", &bb, &bb_before, &inbound[..]),
        ("slow-cooker's outbound", &good, &good_before, &outbound[..]),
    ] {
        assert_eq!(
            delta(after, before, "request_total", labels),
            1.0,
            "{side}: {after}"
        );
        assert_eq!(
            delta(after, before, "response_total", &status_101(labels)),
            1.0,
            "{side}: {after}"
        );
    }
    assert!(
        delta(&bb, &bb_before, "tcp_read_bytes_total", &inbound_tcp) >= sent,
        "{bb}"
    );
    assert!(
        delta(&bb, &bb_before, "tcp_write_bytes_total", &inbound_tcp) >= sent,
        "{bb}"
    );
    assert!(
        delta(&good, &good_before, "tcp_write_bytes_total", &outbound) >= sent,
        "{good}"
    );
    assert!(
        delta(&good, &good_before, "tcp_read_bytes_total", &outbound) >= sent,
        "{good}"
    );
    assert_eq!(
        delta(&good, &good_before, "tcp_open_total", &outbound),
        1.0,
        "{good}"
    );
    assert_eq!(
        series(&good, "tcp_open_connections", &outbound),
        0.0,
        "{good}"
    );
    // A plain GET after it is a request of its own, not part of the tunnel.
    let (status, _) = http_get(GOOD_IP, mesh.good.outbound_addr, &mesh.host(), "/").await;
    assert_eq!(status, 200);
}
