//! HTTP/1.1 upgrades and `CONNECT` at the inbound side, with the guide's
//! policy from a real policy server: what reaches the application, and
//! where a `CONNECT` goes.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use support::*;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The heads an [`upgrade_app`] received, lower-cased.
type Heads = Arc<Mutex<Vec<String>>>;

/// Reads a head up to its blank line, byte by byte so that nothing of a
/// tunnel after it is consumed; `None` at the end of the stream.
async fn read_head<R: AsyncRead + Unpin>(r: &mut R) -> Option<String> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if r.read(&mut byte).await.ok()? == 0 || head.len() > 16 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// An application that records each request head; answers `CONNECT`
/// with 200 and a WebSocket upgrade with 101, then echoes bytes; anything
/// else with 200 "ok".
async fn upgrade_app() -> (SocketAddr, Heads) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Heads::default();
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut stream).await {
                    let head = head.to_lowercase();
                    seen.lock().push(head.clone());
                    let answer = if head.starts_with("connect ") {
                        "HTTP/1.1 200 OK\r\n\r\n"
                    } else if head.contains("\r\nupgrade: websocket\r\n") {
                        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                    } else {
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                    };
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    if !answer.ends_with("ok") {
                        let (mut from, mut to) = stream.split();
                        let _ = tokio::io::copy(&mut from, &mut to).await;
                        return;
                    }
                }
            });
        }
    });
    (addr, heads)
}

async fn guide(app: SocketAddr) -> (Mesh, Proxy) {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let proxy = proxy(&mesh, "bb-1", app, PATIENCE);
    (mesh, proxy)
}

/// Sends `head` and checks the answer's status line, then that bytes echo
/// through the tunnel.
async fn tunnel(stream: &mut TcpStream, head: &str, status_line: &str) {
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_head(stream).await.expect("an answer");
    assert!(answer.starts_with(status_line), "{answer}");
    stream.write_all(b"ping \x00\xff").await.unwrap();
    let mut back = [0u8; 7];
    stream.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"ping \x00\xff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_reaches_the_app_with_only_its_own_hop_by_hop_headers() {
    let (app, heads) = upgrade_app().await;
    let (_mesh, proxy) = guide(app).await;
    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {AUTHORITY}\r\nConnection: Upgrade, x-internal, keep-alive\r\nUpgrade: websocket\r\nx-internal: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nl5d-client-id: someone-else\r\nSec-WebSocket-Key: k\r\n\r\n"
    );
    tunnel(&mut client, &request, "HTTP/1.1 101").await;

    let head = heads.lock()[0].clone();
    for kept in [
        "\r\nconnection: upgrade\r\n",
        "\r\nupgrade: websocket\r\n",
        "\r\nsec-websocket-key: k\r\n",
    ] {
        assert!(head.contains(kept), "{kept:?} missing from {head}");
    }
    for gone in [
        "x-internal",
        "keep-alive",
        "proxy-connection",
        "someone-else",
    ] {
        assert!(!head.contains(gone), "{gone:?} reached the app: {head}");
    }
    assert!(
        head.contains(&format!("\r\nl5d-client-id: {SLOW_COOKER}\r\n")),
        "{head}"
    );
}

/// A `CONNECT` is a request to the port it arrived on: the application
/// answers it, and the proxy never connects to the address it names, so
/// a client cannot use the proxy to reach anything the port does not
/// already lead to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_goes_to_the_app_never_to_the_address_it_names() {
    let (app, heads) = upgrade_app().await;
    let (_mesh, proxy) = guide(app).await;
    let decoy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let named = decoy.local_addr().unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let count = reached.clone();
    tokio::spawn(async move {
        while decoy.accept().await.is_ok() {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });

    let addr = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let request = format!("CONNECT {named} HTTP/1.1\r\nHost: {named}\r\n\r\n");
    tunnel(&mut client, &request, "HTTP/1.1 200").await;
    assert!(
        heads.lock()[0].starts_with(&format!("connect {named} http/1.1\r\n")),
        "{:?}",
        heads.lock()
    );
    assert_eq!(reached.load(Ordering::SeqCst), 0);
}

/// The upgrade is authorized as any request: on the same proxy,
/// slow-cooker's is tunnelled and slow-cooker-evil's refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upgrade_is_answered_403_and_never_reaches_the_app() {
    let (app, heads) = upgrade_app().await;
    let (_mesh, proxy) = guide(app).await;
    let admitted = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let mut good = TcpStream::connect(admitted).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {AUTHORITY}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    );
    tunnel(&mut good, &request, "HTTP/1.1 101").await;
    assert_eq!(heads.lock().len(), 1);

    let addr = proxy.listen(mtls(EVIL), HTTP_PORT).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    for request in [
        format!(
            "GET /ws HTTP/1.1\r\nHost: {AUTHORITY}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        ),
        format!("CONNECT {AUTHORITY} HTTP/1.1\r\nHost: {AUTHORITY}\r\n\r\n"),
    ] {
        client.write_all(request.as_bytes()).await.unwrap();
        let answer = read_head(&mut client).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        let mut body = [0u8; 30];
        client.read_exact(&mut body).await.unwrap();
        assert_eq!(&body, b"unauthorized request on route\n");
    }
    assert_eq!(heads.lock().len(), 1, "a refused request reached the app");
    let text = proxy.encode();
    assert!(
        text.lines()
            .any(|l| l.starts_with("inbound_http_authz_deny_total{")
                && l.contains("srv_name=\"bb\"")
                && l.ends_with(" 2")),
        "{text}"
    );
}
