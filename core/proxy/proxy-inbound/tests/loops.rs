//! The self-forwarding attack. A sidecar forwards every admitted port to
//! the application on loopback; a connection whose destination port is one
//! of the proxy's own listeners would reach the proxy itself: through its
//! outbound listener the attacker's request leaves as this pod, under this
//! pod's identity (every identity-based policy of the mesh bypassed),
//! and through its inbound listener the connection loops. The proxy must
//! refuse such connections before forwarding them.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use strait_proxy_inbound::{Forward, InboundConfig, sidecar_ports};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A listener on loopback standing for one of the proxy's own, counting
/// the connections that reach it.
async fn own_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, reached)
}

/// Forwarding as a sidecar does: every port to `127.0.0.1:<port>`.
fn loopback() -> Forward {
    Forward::With(Arc::new(|port| {
        Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    }))
}

/// Whether the proxy closed the connection unanswered.
async fn closed_unanswered(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_for_the_proxys_own_port_is_refused_not_forwarded() {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let (outbound_port, reached) = own_listener().await;
    let mut config = InboundConfig::new(loopback());
    config.proxy_ports.insert(outbound_port);
    let proxy = proxy_with(&mesh, "bb-1", config);

    // slow-cooker-evil, a meshed client the default policy admits on any
    // port but bb's, asks for the pod's outbound port with the Host of a
    // service that admits only bb.
    let addr = proxy.listen(mtls(EVIL), outbound_port).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: payments.prod.svc.cluster.local:8080\r\n\r\n")
        .await
        .expect("write");
    assert!(closed_unanswered(&mut stream).await);
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the attacker's connection reached the proxy's own listener"
    );
    let text = proxy.encode();
    assert!(
        text.lines()
            .any(|l| l == "connection_refused_total{direction=\"inbound\",reason=\"loop\"} 1"),
        "{text}"
    );
}

#[test]
fn a_sidecar_refuses_every_port_it_listens_on() {
    let ports = InboundConfig::new(loopback()).proxy_ports;
    assert_eq!(ports, sidecar_ports());
    for port in [4140, 4143, 4190, 4191] {
        assert!(ports.contains(&port), "{port}");
    }
    assert!(!ports.contains(&HTTP_PORT));
}
