//! An application that takes HTTP upgrades, and the client side of them,
//! for the tests of upgrades through a proxy pair.
//!
//! The client side (handshake, frames) is `strait_test_support::websocket`,
//! re-exported here for the tests that drive this app.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::any_port;
pub use strait_test_support::websocket::{
    OPCODE_BINARY, OPCODE_CLOSE, WEBSOCKET_KEY, connect, echo, frame, handshake, header, read_body,
    read_frame, read_head, status,
};

/// What the app did, for tests to check.
#[derive(Debug, Default)]
pub struct AppLog {
    /// Upgrades it accepted: 101 answers, and 2xx answers to CONNECT.
    pub upgrades: AtomicU32,
    /// Tunnels whose client side it saw end.
    pub closed: AtomicU32,
    /// Requests it answered without upgrading.
    pub plain: AtomicU32,
}

impl AppLog {
    /// Upgrades accepted so far.
    pub fn upgrades(&self) -> u32 {
        self.upgrades.load(Ordering::SeqCst)
    }

    /// Tunnels ended so far.
    pub fn closed(&self) -> u32 {
        self.closed.load(Ordering::SeqCst)
    }
}

/// The app's address and log.
#[derive(Debug, Clone)]
pub struct UpgradeApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it did.
    pub log: Arc<AppLog>,
}

/// The key the app answers a WebSocket handshake with. RFC 6455 derives
/// it from the client's key with SHA-1; the tests only check that the
/// proxies carry it unchanged, so the reversed key stands in for it.
pub fn accept_key(key: &str) -> String {
    key.chars().rev().collect()
}

/// Starts the app on a loopback port. Over HTTP/1.1 it answers:
///
/// - `CONNECT`: `200`, then echoes raw bytes until the client is done;
/// - `Upgrade: websocket` on `/ws`: `101`, then echoes every frame (a
///   close frame is answered and ends the tunnel);
/// - `Upgrade: websocket` on `/ws-close`: `101`, then closes at once;
/// - any other `Upgrade`: `400` "no such protocol", keeping the connection;
/// - anything else: `200` "bb says hi".
pub async fn upgrade_app() -> UpgradeApp {
    let listener = TcpListener::bind(any_port())
        .await
        .expect("bind the upgrade app");
    let addr = listener.local_addr().expect("the upgrade app's address");
    let log = Arc::new(AppLog::default());
    let served = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, served.clone()));
        }
    });
    UpgradeApp { addr, log }
}

async fn serve(mut stream: TcpStream, log: Arc<AppLog>) {
    loop {
        let Ok(Some(head)) = read_head(&mut stream).await else {
            return;
        };
        let mut line = head.lines().next().unwrap_or_default().split(' ');
        let (method, path) = (line.next().unwrap_or_default(), line.next().unwrap_or(""));
        if method == "CONNECT" {
            let answer = "HTTP/1.1 200 Connection Established\r\n\r\n";
            // Counted before the client can see the answer (or the end of
            // the stream), so a client that saw it also sees the count.
            log.upgrades.fetch_add(1, Ordering::SeqCst);
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            let (mut from, mut to) = stream.split();
            let _ = tokio::io::copy(&mut from, &mut to).await;
            log.closed.fetch_add(1, Ordering::SeqCst);
            let _ = to.shutdown().await;
            return;
        }
        let answer = match header(&head, "upgrade").as_deref() {
            Some("websocket") => {
                let key = header(&head, "sec-websocket-key").unwrap_or_default();
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    accept_key(&key)
                );
                log.upgrades.fetch_add(1, Ordering::SeqCst);
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                if path != "/ws-close" {
                    let _ = websocket_echo(&mut stream).await;
                }
                log.closed.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Some(_) => plain_answer(400, "no such protocol\n"),
            None => plain_answer(200, "bb says hi"),
        };
        log.plain.fetch_add(1, Ordering::SeqCst);
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn plain_answer(status: u16, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Echoes frames until the client closes the connection or sends a close
/// frame (answered with one).
async fn websocket_echo(stream: &mut TcpStream) -> io::Result<()> {
    while let Some((opcode, payload)) = read_frame(stream).await? {
        stream.write_all(&frame(opcode, &payload, None)).await?;
        if opcode == OPCODE_CLOSE {
            break;
        }
    }
    stream.shutdown().await
}
