//! Linkerd's opaque transport between two strait proxies over loopback:
//! bb's Service marks a TCP port opaque, so the destination service hints
//! opaque transport for bb's meshed endpoint, and slow-cooker's outbound
//! side reaches bb's echo through bb's proxy's inbound port (4143 at bb's
//! address, the only place bb's proxy listens) behind a transport header.
//! Headers bb's proxy must not serve are refused: one naming the proxy's
//! own admin port, one naming a host, and any from a client without a
//! certificate.
//!
//! No iptables rule redirects the application's connection here, so the
//! test plays that part: it accepts slow-cooker's connection and hands it
//! to slow-cooker's outbound side (its own connector, its credentials)
//! with the original destination the rule would have given.

use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;

use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use strait_io::TransportHeader;
use strait_mesh::ports::INBOUND_PORT;
use strait_proxy::{MeshConnect, RunningProxy};
use strait_proxy_integration::apps::{echo_app_on, echo_exchange};
use strait_proxy_integration::{
    CONTROL_PLANE_NS, NS, PATIENCE, ProxySpec, any_port, apply, apply_all, control_plane,
    free_port, namespaces, proxy, trust_root,
};
use strait_proxy_metrics::ProxyMetrics;
use strait_proxy_outbound::{Discovery, Outbound, OutboundConfig};
use strait_store::MemoryStore;
use strait_test_support::guide::{BB_IDENTITY, SLOW_COOKER};
use strait_test_support::objects;
use tokio::net::{TcpListener, TcpStream};

/// bb's pod address in each test (each binds bb's proxy's inbound port
/// there, so the tests run side by side).
const BB_IPS: [&str; 2] = ["127.0.0.9", "127.0.0.10"];
/// slow-cooker's pod address.
const GOOD_IP: &str = "127.0.0.2";
/// bb's Service.
const CLUSTER_IP: &str = "10.96.0.30";
/// What slow-cooker sends: not HTTP, so no proxy takes it for a request.
const SENT: &[u8] = b"\x00\x01opaque bytes, not a request\n";

/// bb (an echo on `port`, opaque by its Service's annotation, admitting
/// slow-cooker only) and slow-cooker, each with its proxy.
struct Mesh {
    _plane: strait_control_plane::RunningControlPlane,
    bb: RunningProxy,
    good: RunningProxy,
    control: SocketAddr,
    port: u16,
    bb_ip: &'static str,
}

async fn mesh(bb_ip: &'static str) -> Mesh {
    let store = MemoryStore::new();
    let port = free_port();
    workloads(&store, port, bb_ip);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let accounts = [(NS, "bb"), (NS, "slow-cooker")];
    let (plane, _plugins) = control_plane("local", &store, &root, &accounts).await;
    echo_app(port).await;
    let spec = |sa, ip, pod, inbound| ProxySpec {
        sa,
        ns: NS,
        pod,
        ip,
        anchors: &anchors,
        identity_addr: plane.local_addr(),
        control_addr: plane.local_addr(),
        inbound,
        direct: Vec::new(),
        gateway: false,
        metric_labels: Default::default(),
        tls: None,
        pinned: None,
    };
    let bb_inbound = SocketAddr::new(parse(bb_ip), INBOUND_PORT);
    let bb = proxy(spec("bb", bb_ip, "bb-1", bb_inbound)).await;
    let good = proxy(spec("slow-cooker", GOOD_IP, "slow-cooker-1", any_port())).await;
    Mesh {
        control: plane.local_addr(),
        _plane: plane,
        bb,
        good,
        port,
        bb_ip,
    }
}

fn parse<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"))
}

fn workloads(store: &MemoryStore, port: u16, bb_ip: &str) {
    namespaces(store, &[NS, CONTROL_PLANE_NS]);
    apply(
        store,
        objects::pod(NS, "bb-1")
            .label("app", "bb")
            .service_account("bb")
            .container("bb", &[("tcp", port)])
            .meshed()
            .ip(bb_ip)
            .build(),
    );
    let mut service = objects::service(NS, "bb")
        .cluster_ip(CLUSTER_IP)
        .selector("app", "bb")
        .port("tcp", port, port)
        .build();
    service["metadata"]["annotations"] =
        serde_json::json!({"config.linkerd.io/opaque-ports": port.to_string()});
    apply(store, service);
    apply(
        store,
        objects::endpoint_slice(NS, "bb-slice", "bb")
            .endpoint(bb_ip, "bb-1", true)
            .port("tcp", port)
            .build(),
    );
    apply_all(
        store,
        [
            objects::server_with_protocol(NS, "bb-tcp", "bb", port, "opaque"),
            objects::authorization_policy(NS, "bb-tcp-authz", "bb-tcp", "bb-good"),
            objects::mesh_tls_authentication(NS, "bb-good", &[SLOW_COOKER]),
        ],
    );
}

/// The echo on `port`, where bb's proxy forwards bb's opaque traffic.
async fn echo_app(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("bind the echo: {e}"));
    echo_app_on(listener);
}

/// slow-cooker's outbound side behind a listener: each connection to it
/// is served as if iptables had redirected it from bb's Service port.
async fn outbound(mesh: &Mesh) -> SocketAddr {
    let client = DestinationClient::connect(format!("http://{}", mesh.control))
        .await
        .unwrap_or_else(|e| panic!("connect to the destination service: {e}"));
    let context = serde_json::json!({"ns": NS, "pod": "slow-cooker-1"}).to_string();
    let outbound = Outbound::new(
        OutboundConfig::default(),
        Discovery::new(client, context),
        MeshConnect::new(mesh.good.credentials(), Some(parse(GOOD_IP))),
        ProxyMetrics::new(),
    );
    let listener = TcpListener::bind(any_port())
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("address: {e}"));
    let orig_dst = SocketAddr::new(parse(CLUSTER_IP), mesh.port);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let outbound = outbound.clone();
            tokio::spawn(async move { outbound.serve_connection(stream, Some(orig_dst)).await });
        }
    });
    addr
}

/// An mTLS connection to bb's proxy's inbound port with slow-cooker's
/// certificate, negotiating the transport protocol, that sends `header`
/// and then [`SENT`]: what came back.
async fn with_header(mesh: &Mesh, header: &TransportHeader) -> Vec<u8> {
    let credentials = mesh.good.credentials().borrow().clone();
    let Some(credentials) = credentials else {
        panic!("slow-cooker's proxy has no certificate");
    };
    let tcp = TcpStream::connect(mesh.bb.inbound_addr)
        .await
        .unwrap_or_else(|e| panic!("connect to bb's inbound port: {e}"));
    let mut tls = strait_tls::connect_transport(tcp, &credentials, BB_IDENTITY)
        .await
        .unwrap_or_else(|e| panic!("the handshake with bb's proxy: {e}"));
    if header.write(&mut tls).await.is_err() {
        return Vec::new();
    }
    echo_exchange(&mut tls, SENT).await
}

fn port(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or_else(|| panic!("port 0"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tcp_reaches_a_meshed_opaque_port_through_the_inbound_port() {
    let mesh = mesh(BB_IPS[0]).await;
    let through = outbound(&mesh).await;

    // The control plane's indexes fill asynchronously.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut stream = strait_proxy_integration::connect_from(GOOD_IP, through).await;
        let back = echo_exchange(&mut stream, SENT).await;
        if back == SENT {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "slow-cooker's bytes never came back: {:?}",
            String::from_utf8_lossy(&back)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The echo is behind bb's proxy's inbound port only: nothing listens
    // on bb's port at bb's address, so the header is what got them there.
    assert!(
        TcpStream::connect(SocketAddr::new(parse(mesh.bb_ip), mesh.port))
            .await
            .is_err()
    );
    // The same by hand: a header naming bb's port is served.
    assert_eq!(
        with_header(&mesh, &TransportHeader::opaque(port(mesh.port))).await,
        SENT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_the_proxy_must_not_serve_are_refused() {
    let mesh = mesh(BB_IPS[1]).await;
    assert_eq!(
        with_header(&mesh, &TransportHeader::opaque(port(mesh.port))).await,
        SENT,
        "a header naming bb's opaque port is served"
    );
    // The proxy's own admin port, on the loopback it forwards to: served,
    // it would be the proxy's admin server answering a remote client.
    let admin = TransportHeader::opaque(port(mesh.bb.admin_addr.port()));
    assert!(
        with_header(&mesh, &admin).await.is_empty(),
        "the admin port"
    );
    let inbound = TransportHeader::opaque(port(INBOUND_PORT));
    assert!(
        with_header(&mesh, &inbound).await.is_empty(),
        "the inbound port"
    );
    // A name asks for gateway forwarding.
    let named = TransportHeader {
        name: Some("bb.mc-demo.svc.cluster.local".to_string()),
        ..TransportHeader::opaque(port(mesh.port))
    };
    assert!(
        with_header(&mesh, &named).await.is_empty(),
        "a named header"
    );
    // A TLS client without a certificate may not say which port it wants.
    assert!(
        anonymous(&mesh).await.is_empty(),
        "a client without a certificate"
    );
}

/// [`with_header`] naming bb's port from a TLS client that presents no
/// certificate.
async fn anonymous(mesh: &Mesh) -> Vec<u8> {
    let credentials = mesh.good.credentials().borrow().clone();
    let Some(credentials) = credentials else {
        panic!("slow-cooker's proxy has no certificate");
    };
    let mut config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("versions: {e}"))
        .with_root_certificates(credentials.roots().root_store())
        .with_no_client_auth();
    config.alpn_protocols = vec![strait_tls::MESH_ALPN.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(mesh.bb.inbound_addr)
        .await
        .unwrap_or_else(|e| panic!("connect to bb's inbound port: {e}"));
    let name = rustls_pki_types::ServerName::try_from(BB_IDENTITY.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let Ok(mut tls) = connector.connect(name, tcp).await else {
        return Vec::new();
    };
    if TransportHeader::opaque(port(mesh.port))
        .write(&mut tls)
        .await
        .is_err()
    {
        return Vec::new();
    }
    echo_exchange(&mut tls, SENT).await
}
