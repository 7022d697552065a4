//! Loopback addresses and one plain HTTP/1.1 request, for tests that run
//! servers and proxies on this machine: a GET as a pod makes it, or any
//! request written out byte for byte, as an attacker would write it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long [`http_get`] and [`http_raw`] wait for a connection: loopback connects at once
/// or is refused, so a longer wait is a listener that never accepts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long [`http_get`] and [`http_raw`] wait for the whole answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// 127.0.0.1 with a port the system picks when it is bound: for listeners
/// whose address the test reads back.
pub fn any_port() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
}

/// A loopback port free at the time of the call (bound, then released),
/// for a port that must be known before its listener exists: one given to
/// a child process, or written into a configuration.
///
/// The port comes from below the kernel's ephemeral range, walked by one
/// counter per process from a start the process id picks. A port the
/// system hands out (`bind(0)`, or the local end of any outgoing
/// connection) comes from the ephemeral range, so between this call and
/// the listener's bind no other socket of a busy test run takes it, and
/// two tests of one process never get the same port.
pub fn free_port() -> u16 {
    let (low, high) = unassigned_range();
    let span = u32::from(high - low);
    for _ in 0..span {
        let offset = NEXT_PORT.fetch_add(1, Ordering::Relaxed) % span;
        let Ok(port) = u16::try_from(u32::from(low) + offset) else {
            continue;
        };
        if std::net::TcpListener::bind(SocketAddr::new(LOOPBACK, port)).is_ok() {
            return port;
        }
    }
    match std::net::TcpListener::bind(any_port()).and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("no free loopback port: {e}"),
    }
}

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Where [`free_port`] walks next: an offset into its range, started by
/// the process id so that processes run one after another (or beside each
/// other) begin at different ports.
static NEXT_PORT: LazyLock<AtomicU32> =
    LazyLock::new(|| AtomicU32::new(std::process::id().wrapping_mul(7919)));

/// Ports that neither well-known services nor the kernel's ephemeral range
/// use: from 10000 up to the start of the ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`, 32768 when unreadable).
fn unassigned_range() -> (u16, u16) {
    const LOW: u16 = 10_000;
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    if ephemeral_start > LOW + 1000 {
        (LOW, ephemeral_start)
    } else {
        (LOW, 32_768)
    }
}

/// `GET path` with `Host: host` to `to`, over a fresh connection made from
/// address `from` (a pod's address, which proxies and policies go by) and
/// closed after the answer: its status code and body. The status is 0 when
/// no answer came: a refused or timed-out connection, or a closed one,
/// which tests of refusals expect and tests waiting for a server retry.
pub async fn http_get(from: IpAddr, to: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let Some(stream) = connect_from(from, to).await else {
        return (0, String::new());
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    exchange(stream, request.as_bytes()).await
}

/// `GET path` with `Host: host` over `stream`, a connection made however
/// the test needs (from inside a pod's network namespace, say), closed
/// after the answer: its status code and body, as [`http_get`].
pub async fn http_get_over(stream: TcpStream, host: &str, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    exchange(stream, request.as_bytes()).await
}

/// A connection to `to` made from address `from` (a pod's address, which
/// proxies and policies go by), for tests that speak more than one
/// request over it; `None` when it was refused or not accepted in time.
pub async fn connect_from(from: IpAddr, to: SocketAddr) -> Option<TcpStream> {
    let socket = match from {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    };
    let socket = match socket {
        Ok(socket) => socket,
        Err(e) => panic!("no socket: {e}"),
    };
    if let Err(e) = socket.bind(SocketAddr::new(from, 0)) {
        panic!("cannot bind {from}: {e}");
    }
    match tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(to)).await {
        Ok(Ok(stream)) => Some(stream),
        _ => None,
    }
}

/// Sends `request`, exactly as given (request line, headers and body), to
/// `to` over a fresh connection and reads until the server closes it: its
/// status code and body, status 0 when no answer came. For tests of what a
/// server refuses, which must control every header (a foreign `Host`, a
/// missing `Authorization`, a browser's `Content-Type`) that a client
/// library would otherwise set for them. The request should carry
/// `Connection: close`, or the answer waits for the server's idle timeout.
pub async fn http_raw(to: SocketAddr, request: &[u8]) -> (u16, String) {
    let Ok(Ok(stream)) = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(to)).await else {
        return (0, String::new());
    };
    exchange(stream, request).await
}

async fn exchange(mut stream: TcpStream, request: &[u8]) -> (u16, String) {
    if stream.write_all(request).await.is_err() {
        return (0, String::new());
    }
    let mut response = Vec::new();
    let _ = tokio::time::timeout(ANSWER_TIMEOUT, stream.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[cfg(test)]
mod tests;
