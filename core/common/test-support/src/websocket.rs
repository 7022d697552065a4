//! The client side of HTTP upgrades and WebSockets, for tests that drive
//! them through proxies: a handshake, `CONNECT`, frames masked as a
//! client sends them, and reading heads and frames back without reading
//! past them (a tunnel's first bytes follow a head at once).
//!
//! Frames are written by hand (RFC 6455 §5.2: clients mask, servers do
//! not): the proxies only carry the bytes, so a few lines of framing test
//! them as well as a WebSocket library would, without one more dependency.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The longest request or response head read: far more than any the tests
/// send, so a runaway peer fails the test rather than filling memory.
const MAX_HEAD: usize = 64 * 1024;

/// The largest frame payload read.
const MAX_PAYLOAD: u64 = 1 << 20;

/// A text data frame.
pub const OPCODE_TEXT: u8 = 0x1;

/// A binary data frame.
pub const OPCODE_BINARY: u8 = 0x2;

/// A close frame.
pub const OPCODE_CLOSE: u8 = 0x8;

/// The mask the tests' client frames carry.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One WebSocket frame, final, masked with `mask` when given (as a
/// client must send it).
pub fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    fragment(true, opcode, payload, mask)
}

/// One WebSocket frame, final or not (`fin`): a fragment of a message
/// whose first frame names its opcode and the rest are continuations
/// (opcode 0), masked with `mask` when given.
pub fn fragment(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
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
        .write_all(&frame(OPCODE_BINARY, payload, Some(MASK)))
        .await?;
    read_frame(stream).await
}
