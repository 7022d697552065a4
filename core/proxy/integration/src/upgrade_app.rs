//! An application that takes HTTP upgrades, and the client side of them,
//! for the tests of upgrades through a proxy pair.
//!
//! WebSocket frames are written by hand (RFC 6455 §5.2: clients mask,
//! servers do not): the proxies only carry the bytes, so a few lines of
//! framing test them as well as a WebSocket library would, without one
//! more dependency.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::any_port;

/// The longest request or response head read: far more than any the tests
/// send, so a runaway peer fails the test rather than filling memory.
const MAX_HEAD: usize = 64 * 1024;

/// The largest frame payload read.
const MAX_PAYLOAD: u64 = 1 << 20;

/// A binary data frame.
pub const OPCODE_BINARY: u8 = 0x2;

/// A close frame.
pub const OPCODE_CLOSE: u8 = 0x8;

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
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            log.upgrades.fetch_add(1, Ordering::SeqCst);
            let (mut from, mut to) = stream.split();
            let _ = tokio::io::copy(&mut from, &mut to).await;
            let _ = to.shutdown().await;
            log.closed.fetch_add(1, Ordering::SeqCst);
            return;
        }
        let answer = match header(&head, "upgrade").as_deref() {
            Some("websocket") => {
                let key = header(&head, "sec-websocket-key").unwrap_or_default();
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    accept_key(&key)
                );
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                log.upgrades.fetch_add(1, Ordering::SeqCst);
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

/// One WebSocket frame, final, masked with `mask` when given (as a
/// client must send it).
pub fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// Reads one frame: its opcode and unmasked payload; `None` at the end of
/// the stream.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut first = [0u8; 2];
    match r.read_exact(&mut first).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = match first[1] & 0x7f {
        126 => u64::from(r.read_u16().await?),
        127 => r.read_u64().await?,
        n => u64::from(n),
    };
    if len > MAX_PAYLOAD {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
    }
    let mask = if first[1] & 0x80 != 0 {
        let mut key = [0u8; 4];
        r.read_exact(&mut key).await?;
        Some(key)
    } else {
        None
    };
    let mut payload = vec![0u8; usize::try_from(len).unwrap_or(0)];
    r.read_exact(&mut payload).await?;
    if let Some(key) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Ok(Some((first[0] & 0x0f, payload)))
}

/// Reads a request or response head up to and including its blank line,
/// byte by byte so that nothing after it (a tunnel's first bytes) is
/// consumed; `None` when the stream ends first.
pub async fn read_head<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if r.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
    }
    Ok(Some(String::from_utf8_lossy(&head).into_owned()))
}

/// The value of header `name` (any case) in `head`.
pub fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

/// The status code of a response head (0 when it has none).
pub fn status(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The client's WebSocket key in the tests.
pub const WEBSOCKET_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// Sends a WebSocket handshake for `path` at `host`, asking for
/// `protocol`, and reads the answer's head (`None`: the connection
/// closed unanswered).
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
    protocol: &str,
) -> io::Result<Option<String>> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: {protocol}\r\nSec-WebSocket-Key: {WEBSOCKET_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    read_head(stream).await
}

/// Sends `CONNECT authority` and reads the answer's head.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    authority: &str,
) -> io::Result<Option<String>> {
    let request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    read_head(stream).await
}

/// Reads a response's body by its `content-length` (none without one).
pub async fn read_body<R: AsyncRead + Unpin>(r: &mut R, head: &str) -> io::Result<String> {
    let length = header(head, "content-length")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_HEAD {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "body too long"));
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).await?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Sends `payload` as one masked binary frame and reads the frame that
/// comes back: its opcode and payload.
pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    payload: &[u8],
) -> io::Result<Option<(u8, Vec<u8>)>> {
    stream
        .write_all(&frame(
            OPCODE_BINARY,
            payload,
            Some([0x37, 0xfa, 0x21, 0x3d]),
        ))
        .await?;
    read_frame(stream).await
}
