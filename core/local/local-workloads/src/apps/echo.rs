//! jmalloc/echo-server, as Kubernetes users deploy it to try HTTP and
//! WebSocket through a mesh: every HTTP request is answered 200 with the
//! request itself (`Request served by <hostname>`, its request line, Host
//! and headers sorted by name, and its body), and every WebSocket it
//! accepts first gets a text message naming the server, then has each of
//! its messages echoed back, as the image does. Its log has the image's
//! lines: one per request (`<remote> | GET /path`), one per upgrade and
//! one per message.
//!
//! The WebSocket side is RFC 6455's server: the handshake answered with
//! the key's SHA-1 digest, client frames required masked, fragmented
//! messages reassembled, pings answered, a close echoed. Everything a
//! client sends is bounded: a request body or a message larger than
//! [`MAX_MESSAGE`] is refused (413, or close code 1009) without being
//! read to its end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::Task;
use crate::images::EchoServer;
use crate::logs::ContainerLog;

/// RFC 6455's GUID, appended to the client's key before hashing.
const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The largest request body echoed and the largest WebSocket message
/// (all its fragments) accepted.
pub(crate) const MAX_MESSAGE: usize = 1 << 20;

/// A continuation frame.
const OP_CONTINUATION: u8 = 0x0;
/// A text frame.
pub(crate) const OP_TEXT: u8 = 0x1;
/// A binary frame.
pub(crate) const OP_BINARY: u8 = 0x2;
/// A close frame.
pub(crate) const OP_CLOSE: u8 = 0x8;
/// A ping frame.
pub(crate) const OP_PING: u8 = 0x9;
/// A pong frame.
pub(crate) const OP_PONG: u8 = 0xA;

/// Close code: the peer broke the protocol.
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close code: a message too big to take.
const CLOSE_TOO_BIG: u16 = 1009;

/// Serves echo-server on `listener` until dropped, as the pod `hostname`.
pub(crate) fn serve_echo(
    listener: TcpListener,
    echo: EchoServer,
    hostname: String,
    log: ContainerLog,
) -> Task {
    log.write(&format!("Echo server listening on port {}.", echo.port));
    let hostname: Arc<str> = Arc::from(hostname);
    Task(tokio::spawn(async move {
        // Connections (and the WebSockets they become) live in the set,
        // so stopping the server stops them.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, remote)) => {
                        let _ = stream.set_nodelay(true);
                        connections.spawn(serve_connection(stream, remote, hostname.clone(), log.clone()));
                    }
                    Err(err) => {
                        tracing::warn!("echo-server cannot accept: {err}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }))
}

/// Serves HTTP/1.1 on one connection; if a request on it was answered
/// 101, the connection then carries that WebSocket until it closes.
async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    hostname: Arc<str>,
    log: ContainerLog,
) {
    let upgrade: Arc<Mutex<Option<OnUpgrade>>> = Arc::default();
    let (slot, service_log, served_as) = (upgrade.clone(), log.clone(), hostname.clone());
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let (hostname, log, slot) = (served_as.clone(), service_log.clone(), slot.clone());
        async move {
            Ok::<_, std::convert::Infallible>(handle(request, remote, &hostname, &log, &slot).await)
        }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
    if let Err(err) = served {
        tracing::debug!("echo-server connection ended: {err}");
        return;
    }
    let pending = upgrade.lock().take();
    let Some(pending) = pending else {
        return;
    };
    match pending.await {
        Ok(upgraded) => {
            log.write(&format!("{remote} | upgraded to websocket"));
            let greeting = format!("Request served by {hostname}");
            let ended = websocket(TokioIo::new(upgraded), greeting.as_bytes(), &|line| {
                log.write(&format!("{remote} | {line}"));
            })
            .await;
            log.write(&format!("{remote} | {ended}"));
        }
        Err(err) => log.write(&format!("{remote} | {err}")),
    }
}

/// Answers one request: a WebSocket handshake (101, or the refusal
/// gorilla/websocket gives), or the request echoed.
async fn handle(
    mut request: Request<Incoming>,
    remote: SocketAddr,
    hostname: &str,
    log: &ContainerLog,
    upgrade: &Mutex<Option<OnUpgrade>>,
) -> Response<Full<Bytes>> {
    log.write(&format!(
        "{remote} | {} {}",
        request.method(),
        request.uri()
    ));
    if is_websocket_upgrade(request.headers()) {
        return match handshake(request.method(), request.headers()) {
            Ok(accept) => {
                *upgrade.lock() = Some(hyper::upgrade::on(&mut request));
                switching_protocols(&accept)
            }
            Err((status, message)) => {
                log.write(&format!("{remote} | {message}"));
                text(status, format!("{message}\n"))
            }
        };
    }
    match request.uri().path() {
        // The image's browser page and server-sent events: not here.
        "/.ws" | "/.sse" => text(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "strait local's echo-server does not serve {}: it echoes requests and WebSocket messages\n",
                request.uri().path()
            ),
        ),
        _ => echo_request(request, hostname).await,
    }
}

/// A `text/plain` response.
fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The request as echo-server writes it back: who served it, the request
/// line, Host, the other headers by canonical name, and the body.
async fn echo_request(request: Request<Incoming>, hostname: &str) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_MESSAGE).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {MAX_MESSAGE} bytes, or was cut short\n"),
            );
        }
    };
    let host = parts
        .headers
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let mut out = format!(
        "Request served by {hostname}\n\n{} {} {:?}\n\nHost: {host}\n",
        parts.method, parts.uri, parts.version
    );
    for line in sorted_headers(&parts.headers) {
        out.push_str(&line);
        out.push('\n');
    }
    let mut bytes = out.into_bytes();
    if !body.is_empty() {
        bytes.push(b'\n');
        bytes.extend_from_slice(&body);
    }
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// `Name: value` for every header but Host, names canonical as Go writes
/// them (`User-Agent`), sorted by name, values in the order sent.
pub(crate) fn sorted_headers(headers: &HeaderMap) -> Vec<String> {
    let mut lines: Vec<(String, usize, String)> = headers
        .iter()
        .filter(|(name, _)| *name != header::HOST)
        .enumerate()
        .map(|(order, (name, value))| {
            (
                canonical(name.as_str()),
                order,
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(name, _, value)| format!("{name}: {value}"))
        .collect()
}

/// Go's canonical header name: each dash-separated word capitalized.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether `value` (a comma-separated list) holds `token`, case aside.
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .unwrap_or_default()
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    })
}

/// A request asking for a WebSocket: `Connection: upgrade` and
/// `Upgrade: websocket`.
pub(crate) fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    has_token(headers, header::CONNECTION, "upgrade")
        && has_token(headers, header::UPGRADE, "websocket")
}

/// The `Sec-WebSocket-Accept` for a valid handshake, or the status and
/// message gorilla/websocket refuses it with.
pub(crate) fn handshake(
    method: &Method,
    headers: &HeaderMap,
) -> Result<String, (StatusCode, &'static str)> {
    if method != Method::GET {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "websocket: the client is not using the websocket protocol: request method is not GET",
        ));
    }
    if !has_token(headers, header::SEC_WEBSOCKET_VERSION, "13") {
        return Err((
            StatusCode::BAD_REQUEST,
            "websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header",
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|k| k.to_str().ok())
        .map(str::trim)
        .filter(|k| BASE64.decode(k).is_ok_and(|raw| raw.len() == 16))
        .ok_or((
            StatusCode::BAD_REQUEST,
            "websocket: not a websocket handshake: 'Sec-WebSocket-Key' header must be Base64 encoded value of 16-byte in length",
        ))?;
    Ok(accept_key(key))
}

/// RFC 6455's `Sec-WebSocket-Accept` for `key`.
pub(crate) fn accept_key(key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(WEBSOCKET_GUID.as_bytes());
    BASE64.encode(sha1.finalize())
}

fn switching_protocols(accept: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// Why a WebSocket ended.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Ended {
    /// The client closed it (with this code, if it gave one).
    #[error("websocket: close {}", .0.map_or("1005 (no status)".to_string(), |c| c.to_string()))]
    Closed(Option<u16>),
    /// The connection failed or ended without a close.
    #[error("websocket: {0}")]
    Io(#[from] std::io::Error),
    /// The client broke the protocol; it was sent close code 1002.
    #[error("websocket: protocol error: {0}")]
    Protocol(&'static str),
    /// A message larger than [`MAX_MESSAGE`]; close code 1009 was sent.
    #[error("websocket: message of {0} bytes or more exceeds the {MAX_MESSAGE}-byte limit")]
    TooBig(u64),
}

/// One frame as read.
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// Runs the server side of a WebSocket on `io`: sends `greeting` as a
/// text message, then echoes every message until the client closes or
/// breaks the protocol; `log` gets one line per message.
pub(crate) async fn websocket<S>(mut io: S, greeting: &[u8], log: &(dyn Fn(String) + Sync)) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Err(err) = write_frame(&mut io, OP_TEXT, greeting).await {
        return err.into();
    }
    let ended = echo_messages(&mut io, log).await;
    let close = match &ended {
        Ended::Protocol(_) => Some(CLOSE_PROTOCOL_ERROR),
        Ended::TooBig(_) => Some(CLOSE_TOO_BIG),
        Ended::Closed(_) | Ended::Io(_) => None,
    };
    if let Some(code) = close {
        let _ = write_frame(&mut io, OP_CLOSE, &code.to_be_bytes()).await;
    }
    let _ = io.shutdown().await;
    ended
}

async fn echo_messages<S>(io: &mut S, log: &(dyn Fn(String) + Sync)) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // The message being reassembled: its opcode and the fragments so far.
    let mut message: Option<(u8, Vec<u8>)> = None;
    loop {
        let frame = match read_frame(io).await {
            Ok(frame) => frame,
            Err(ended) => return ended,
        };
        match frame.opcode {
            OP_PING => {
                if let Err(err) = write_frame(io, OP_PONG, &frame.payload).await {
                    return err.into();
                }
            }
            OP_PONG => {}
            OP_CLOSE => {
                let code = frame
                    .payload
                    .get(..2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]));
                // The close is answered with the client's code, as
                // gorilla's default close handler does.
                let _ = write_frame(io, OP_CLOSE, frame.payload.get(..2).unwrap_or(&[])).await;
                return Ended::Closed(code);
            }
            OP_TEXT | OP_BINARY | OP_CONTINUATION => {
                let (opcode, mut data) = match (message.take(), frame.opcode) {
                    (None, OP_CONTINUATION) => {
                        return Ended::Protocol("a continuation frame without a message");
                    }
                    (Some(_), OP_TEXT | OP_BINARY) => {
                        return Ended::Protocol("a new message inside a fragmented one");
                    }
                    (Some(started), _) => started,
                    (None, opcode) => (opcode, Vec::new()),
                };
                let total = data.len() + frame.payload.len();
                if total > MAX_MESSAGE {
                    return Ended::TooBig(total as u64);
                }
                data.extend_from_slice(&frame.payload);
                if !frame.fin {
                    message = Some((opcode, data));
                    continue;
                }
                log(if opcode == OP_TEXT {
                    format!("txt | {}", String::from_utf8_lossy(&data))
                } else {
                    format!("bin | {} byte(s)", data.len())
                });
                if let Err(err) = write_frame(io, opcode, &data).await {
                    return err.into();
                }
            }
            _ => return Ended::Protocol("an unknown opcode"),
        }
    }
}

/// Reads one client frame: masked (RFC 6455 §5.1), no reserved bits,
/// control frames short and unfragmented, the payload bounded before it
/// is read.
async fn read_frame<S>(io: &mut S) -> Result<Frame, Ended>
where
    S: AsyncRead + Unpin,
{
    let mut head = [0u8; 2];
    io.read_exact(&mut head).await?;
    let fin = head[0] & 0x80 != 0;
    let opcode = head[0] & 0x0F;
    if head[0] & 0x70 != 0 {
        return Err(Ended::Protocol("reserved bits set"));
    }
    if head[1] & 0x80 == 0 {
        return Err(Ended::Protocol("a client frame that is not masked"));
    }
    let length = match head[1] & 0x7F {
        126 => u64::from(io.read_u16().await?),
        127 => io.read_u64().await?,
        short => u64::from(short),
    };
    let control = opcode & 0x8 != 0;
    if control && (length > 125 || !fin) {
        return Err(Ended::Protocol(
            "a control frame fragmented or over 125 bytes",
        ));
    }
    if length > MAX_MESSAGE as u64 {
        return Err(Ended::TooBig(length));
    }
    let mut mask = [0u8; 4];
    io.read_exact(&mut mask).await?;
    let mut payload = vec![0u8; length as usize];
    io.read_exact(&mut payload).await?;
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= mask[i % 4];
    }
    Ok(Frame {
        fin,
        opcode,
        payload,
    })
}

/// Writes one unmasked (server) frame, final.
async fn write_frame<S>(io: &mut S, opcode: u8, payload: &[u8]) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    let mut head = Vec::with_capacity(10);
    head.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => head.push(len as u8),
        len @ 126..=0xFFFF => {
            head.push(126);
            head.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            head.push(127);
            head.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    io.write_all(&head).await?;
    io.write_all(payload).await?;
    io.flush().await
}

#[cfg(test)]
mod tests;
