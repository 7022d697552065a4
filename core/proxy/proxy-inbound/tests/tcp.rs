//! Opaque TCP enforcement end to end: per connection, and again when the
//! policy changes under a live connection.

mod support;

use std::sync::atomic::Ordering;

use strait_decisions::authz::ClientTls;
use strait_test_support::scrape;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn opaque() -> (Mesh, App, Proxy) {
    let mesh = mesh().await;
    opaque_policy(&mesh.store);
    wait_for_server(&mesh, OPAQUE_PORT, "bb-tcp").await;
    let app = echo_app().await;
    let proxy = proxy(&mesh, "bb-1", app.addr, PATIENCE);
    (mesh, app, proxy)
}

async fn echo(stream: &mut TcpStream, text: &[u8]) -> Vec<u8> {
    stream.write_all(text).await.expect("write");
    let mut answer = vec![0u8; text.len()];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut answer))
        .await
        .expect("echo in time")
        .expect("echo");
    answer
}

/// Whether the peer closed the connection (EOF or reset) within the
/// patience.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admitted_connection_is_copied_both_ways() {
    let (_mesh, app, proxy) = opaque().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), OPAQUE_PORT).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(echo(&mut stream, b"ping one").await, b"ping one");
    assert_eq!(echo(&mut stream, b"ping two").await, b"ping two");
    assert_eq!(app.connections.load(Ordering::SeqCst), 1);
    drop(stream);
    let text = proxy.encode();
    let srv = "srv_group=\"policy.linkerd.io\",srv_kind=\"server\",srv_name=\"bb-tcp\"";
    let tls = format!("tls=\"true\",client_id=\"{SLOW_COOKER}\"");
    let allow = format!(
        "inbound_tcp_authz_allow_total{{direction=\"inbound\",target_addr=\"{POD_IP}:{OPAQUE_PORT}\",{tls},{srv},authz_group=\"policy.linkerd.io\",authz_kind=\"authorizationpolicy\",authz_name=\"bb-tcp-authz\"}} 1"
    );
    assert!(text.lines().any(|l| l == allow), "{allow}\n{text}");
    let read = format!(
        "tcp_read_bytes_total{{direction=\"inbound\",target_addr=\"{POD_IP}:{OPAQUE_PORT}\",{tls},{srv}}} 16"
    );
    assert!(text.lines().any(|l| l == read), "{read}\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_closed() {
    let (_mesh, app, proxy) = opaque().await;
    for tls in [
        mtls(EVIL),
        ClientTls::Plaintext("no_tls_from_remote".into()),
    ] {
        let addr = proxy.listen(tls, OPAQUE_PORT).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let _ = stream.write_all(b"let me in").await;
        assert!(
            closed(&mut stream).await,
            "the refused connection stays open"
        );
    }
    assert_eq!(app.connections.load(Ordering::SeqCst), 0);
    let text = proxy.encode();
    let denied = text
        .lines()
        .filter(|l| l.starts_with("inbound_tcp_authz_deny_total{") && l.ends_with(" 1"))
        .count();
    assert_eq!(denied, 2, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_closes_a_live_connection_it_no_longer_admits() {
    let (mesh, _app, proxy) = opaque().await;
    let addr = proxy.listen(mtls(SLOW_COOKER), OPAQUE_PORT).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(echo(&mut stream, b"before").await, b"before");

    delete(&mesh.store, "AuthorizationPolicy", "bb-tcp-authz");
    assert!(
        closed(&mut stream).await,
        "the connection outlived its authorization"
    );

    // New connections are refused too.
    let mut again = TcpStream::connect(addr).await.expect("connect");
    let _ = again.write_all(b"again").await;
    assert!(closed(&mut again).await);

    let text = proxy.encode();
    let terminated = format!(
        "inbound_tcp_authz_terminate_total{{direction=\"inbound\",target_addr=\"{POD_IP}:{OPAQUE_PORT}\",tls=\"true\",client_id=\"{SLOW_COOKER}\",srv_group=\"policy.linkerd.io\",srv_kind=\"server\",srv_name=\"bb-tcp\"}} 1"
    );
    assert!(
        text.lines().any(|l| l == terminated),
        "{terminated}\n{text}"
    );
    // Both connections are closed and counted so: the series of the
    // connections exist, and all come down to zero.
    strait_test_support::eventually_within(
        PATIENCE,
        "tcp_open_connections back to 0",
        async || {
            let text = proxy.encode();
            let open: Vec<f64> = scrape::series(&text, "tcp_open_connections", &[])
                .map(|(_, value)| value)
                .collect();
            if !open.is_empty() && open.iter().all(|v| *v == 0.0) {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
}
