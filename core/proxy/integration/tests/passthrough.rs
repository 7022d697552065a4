//! The application's own TLS through its proxy: a client that speaks TLS
//! to the pod for another name than the proxy's identity (HTTPS the app
//! serves itself) is passed through to the app untouched, as Linkerd's
//! proxies do, instead of being answered with the proxy's certificate or
//! dropped. It counts as a client without mesh identity, so a policy that
//! requires one refuses it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use strait_proxy::DirectInbound;
use strait_proxy_integration::{
    CONTROL_PLANE_NS, NS, PATIENCE, ProxySpec, any_port, apply_all, bb_workload, control_plane,
    free_port, metrics, namespaces, proxy, trust_root,
};
use strait_store::MemoryStore;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// An app that records the first five bytes of each connection.
async fn recording_app() -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind(any_port()).await.expect("bind app");
    let addr = listener.local_addr().expect("app address");
    let (seen, received) = mpsc::channel(64);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 5];
                if stream.read_exact(&mut first).await.is_ok() {
                    let _ = seen.send(first.to_vec()).await;
                }
            });
        }
    });
    (addr, received)
}

/// Starts a TLS handshake for `name` with `to` from 127.0.0.4, which the
/// test never completes: what matters is where the hello goes.
fn hello_for(name: &str, to: SocketAddr) -> tokio::task::JoinHandle<()> {
    let name = rustls_pki_types::ServerName::try_from(name.to_string()).expect("a name");
    tokio::spawn(async move {
        let config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.4:0".parse().expect("addr"))
            .expect("bind");
        let Ok(tcp) = socket.connect(to).await else {
            return;
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let _ = tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp)).await;
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_own_tls_is_passed_through_and_policy_still_applies() {
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let store = MemoryStore::new();
    namespaces(&store, &[NS, CONTROL_PLANE_NS]);
    let port = free_port();
    bb_workload(&store, port, "10.96.0.10");
    let (plane, _plugins) = control_plane("west", &store, &root, &[(NS, "bb")]).await;
    let (app, mut seen) = recording_app().await;
    let listen: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let bb = proxy(ProxySpec {
        sa: "bb",
        ns: NS,
        pod: "bb-1",
        ip: "127.0.0.1",
        anchors: &anchors,
        identity_addr: plane.local_addr(),
        control_addr: plane.local_addr(),
        inbound: any_port(),
        direct: vec![DirectInbound { listen, app }],
        gateway: false,
        metric_labels: BTreeMap::new(),
        tls: None,
        pinned: None,
    })
    .await;

    // No Server: all-unauthenticated. The hello reaches the app as sent.
    let client = hello_for("bb.example.com", listen);
    let first = tokio::time::timeout(PATIENCE, seen.recv())
        .await
        .expect("the app got the connection in time")
        .expect("a record");
    assert_eq!(&first[..3], &[0x16, 0x03, 0x01], "a TLS handshake record");
    client.abort();
    let text = metrics(bb.admin_addr).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("tcp_open_total{") && l.contains("no_tls_reason=\"passthru\"")),
        "{text}"
    );

    // The guide's Server admits only slow-cooker's identity: a passed
    // through client has none, and reaches nothing.
    apply_all(&store, strait_test_support::guide::policy(port));
    // Until the proxy has the policy: a client it denies (counted) that
    // reached nothing. One admitted just before may be cut when the
    // policy arrives, so only a counted denial ends the wait.
    let denied = async || {
        let text = metrics(bb.admin_addr).await;
        text.lines().any(|l| {
            l.starts_with("inbound_tcp_authz_deny_total{")
                && l.contains("srv_name=\"bb\"")
                && l.contains("no_tls_reason=\"passthru\"")
        })
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        while seen.try_recv().is_ok() {}
        let client = hello_for("bb.example.com", listen);
        // Longer than the proxy's protocol detection (1 s here), after
        // which an admitted client would reach the app.
        let reached = tokio::time::timeout(Duration::from_secs(3), seen.recv()).await;
        client.abort();
        if reached.is_err() && denied().await {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a passed-through client is not refused under a policy requiring identity"
        );
    }
    drop((bb, plane));
}
