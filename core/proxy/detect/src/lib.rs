//! Protocol detection from a connection's first bytes, one rule for both
//! sides of the proxy.
//!
//! A connection is:
//!
//! - HTTP/2 when it begins with the client connection preface
//!   (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`);
//! - HTTP/1 when it begins with a request line: a method that is an
//!   RFC 9110 `token` (so `get`, `M-SEARCH` and other extension methods
//!   count), one space, a request target, one space, `HTTP/1.1` or
//!   `HTTP/1.0`, and the line end (CRLF, or a bare LF as RFC 9112 lets a
//!   server accept);
//! - opaque otherwise: as soon as the bytes cannot begin either of those,
//!   when [`MAX_REQUEST_LINE`] bytes hold no complete request line, when
//!   the peer stops sending (half-closes) before the line is complete, or
//!   when nothing decisive arrives within the timeout, so server-first
//!   protocols still get through.
//!
//! The verdict depends only on the bytes, never on how they were split
//! across reads: [`classify`] answers `None` only while some continuation
//! could still lead to either verdict, and once it answers, more bytes do
//! not change its answer.
//!
//! [`detect`] reads a connection until [`classify`] answers, and returns
//! the bytes it read so the caller can replay them (with
//! `strait_io::PrefixedIo`) to whatever serves the connection next. A peer
//! that closes before sending anything gets its own result,
//! [`Detection::Closed`]: there is nothing to serve, and each side decides
//! what that means for it.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The client's first bytes of every HTTP/2 connection (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The HTTP/1 versions a request line may name.
const HTTP1_VERSIONS: [&[u8]; 2] = [b"HTTP/1.1", b"HTTP/1.0"];

/// How many bytes may pass without a complete request line before the
/// connection is taken as opaque. No HTTP client sends a longer request
/// line, and the cap bounds what a client speaking something else makes
/// the proxy buffer before its bytes are forwarded.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// What a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// It began with an HTTP/1.0 or HTTP/1.1 request line.
    Http1,
    /// It began with the HTTP/2 connection preface.
    Http2,
    /// Anything else, or nothing decisive within the byte cap or the
    /// detection timeout.
    Opaque,
}

/// What [`detect`] found on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detection {
    /// The peer sent bytes (or stayed silent until the timeout: then
    /// [`Protocol::Opaque`] with an empty `prefix`).
    Protocol {
        /// What the connection speaks.
        protocol: Protocol,
        /// The bytes read to tell, which are no longer on the connection:
        /// they must be replayed before the rest.
        prefix: Bytes,
    },
    /// The peer closed the connection (or its sending side) before
    /// sending a single byte.
    Closed,
}

/// Reads the first bytes of `io` until they tell its protocol, giving up
/// (opaque) after `timeout` or when the peer stops sending. The bytes read
/// are returned in the [`Detection`], to be replayed.
///
/// # Errors
///
/// The error of a read from `io` that failed.
pub async fn detect<I: AsyncRead + Unpin>(io: &mut I, timeout: Duration) -> io::Result<Detection> {
    let found = |protocol, buf: BytesMut| Detection::Protocol {
        protocol,
        prefix: buf.freeze(),
    };
    let mut buf = BytesMut::with_capacity(1024);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(protocol) = classify(&buf) {
            return Ok(found(protocol, buf));
        }
        match tokio::time::timeout_at(deadline, io.read_buf(&mut buf)).await {
            Err(_elapsed) => return Ok(found(Protocol::Opaque, buf)),
            Ok(Ok(0)) if buf.is_empty() => return Ok(Detection::Closed),
            // The peer stopped sending while the verdict was still open.
            Ok(Ok(0)) => return Ok(found(Protocol::Opaque, buf)),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(error),
        }
    }
}

/// The protocol of a connection that began with `buf`; `None` while more
/// bytes are needed to tell.
pub fn classify(buf: &[u8]) -> Option<Protocol> {
    if buf.starts_with(H2_PREFACE) {
        return Some(Protocol::Http2);
    }
    if H2_PREFACE.starts_with(buf) {
        // Nothing yet, or a beginning of the preface: `PRI * HTTP/` could
        // still turn out to be an HTTP/1 request line as well.
        return None;
    }
    let head = &buf[..buf.len().min(MAX_REQUEST_LINE)];
    match request_line(head) {
        Line::Complete => Some(Protocol::Http1),
        Line::Invalid => Some(Protocol::Opaque),
        Line::Partial if buf.len() >= MAX_REQUEST_LINE => Some(Protocol::Opaque),
        Line::Partial => None,
    }
}

/// How far some bytes go towards an HTTP/1 request line.
enum Line {
    /// They begin with a whole request line.
    Complete,
    /// They are the beginning of a request line.
    Partial,
    /// No continuation makes them a request line.
    Invalid,
}

/// Reads `method SP target SP version` and the line end from the start of
/// `buf`, as far as it goes.
fn request_line(buf: &[u8]) -> Line {
    let rest = match word(buf, is_token) {
        Ok(rest) => rest,
        Err(line) => return line,
    };
    let rest = match word(rest, is_target) {
        Ok(rest) => rest,
        Err(line) => return line,
    };
    let Some(version) = HTTP1_VERSIONS.iter().find(|v| rest.starts_with(v)) else {
        let beginning = HTTP1_VERSIONS.iter().any(|v| v.starts_with(rest));
        return if beginning {
            Line::Partial
        } else {
            Line::Invalid
        };
    };
    match &rest[version.len()..] {
        [] | [b'\r'] => Line::Partial,
        [b'\n', ..] | [b'\r', b'\n', ..] => Line::Complete,
        _ => Line::Invalid,
    }
}

/// The bytes after a non-empty run of `allowed` bytes at the start of
/// `buf` and the single space that ends it; otherwise whether such a run
/// may still come (`Partial`: every byte so far is allowed) or not.
fn word(buf: &[u8], allowed: fn(u8) -> bool) -> Result<&[u8], Line> {
    match buf.iter().position(|b| !allowed(*b)) {
        None => Err(Line::Partial),
        Some(end) if end > 0 && buf[end] == b' ' => Ok(&buf[end + 1..]),
        Some(_) => Err(Line::Invalid),
    }
}

/// A `tchar` of RFC 9110 §5.6.2, of which methods are made.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte of a request target: visible ASCII, or a byte above ASCII as
/// hyper's parser accepts them. Spaces end the target; control bytes never
/// appear in one, so a connection showing them is opaque at once.
fn is_target(b: u8) -> bool {
    b.is_ascii_graphic() || b >= 0x80
}

#[cfg(test)]
mod tests;
