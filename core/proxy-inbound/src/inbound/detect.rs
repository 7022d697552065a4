//! Protocol detection: HTTP/2 by its connection preface, HTTP/1 by its
//! request line, anything else (or silence until the timeout) is opaque.

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The client connection preface every HTTP/2 connection starts with.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Longest request line read before deciding a connection is not HTTP/1.
const MAX_DETECT_BYTES: usize = 8 * 1024;

/// What the client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detected {
    Http1,
    Http2,
    Opaque,
}

/// The verdict on the bytes so far; `None` when more are needed.
pub(crate) fn classify(buf: &[u8]) -> Option<Detected> {
    if buf.len() >= H2_PREFACE.len() && buf.starts_with(H2_PREFACE) {
        return Some(Detected::Http2);
    }
    if H2_PREFACE.starts_with(buf) {
        // Could still become the preface (or `PRI` as an HTTP/1 method).
        return None;
    }
    // An HTTP/1 request line: `METHOD SP target SP HTTP/1.x`.
    let method_end = buf.iter().position(|b| !is_token(*b));
    match method_end {
        None => return (buf.len() >= MAX_DETECT_BYTES).then_some(Detected::Opaque),
        Some(0) => return Some(Detected::Opaque),
        Some(end) if buf[end] != b' ' => return Some(Detected::Opaque),
        Some(_) => {}
    }
    let Some(line_end) = buf.iter().position(|b| *b == b'\n') else {
        return (buf.len() >= MAX_DETECT_BYTES).then_some(Detected::Opaque);
    };
    let line = buf[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&buf[..line_end]);
    if line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0") {
        Some(Detected::Http1)
    } else {
        Some(Detected::Opaque)
    }
}

/// Token characters of an HTTP method (RFC 9110), which are all printable.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Reads until the protocol is known, the client stops sending, or the
/// timeout passes (then whatever was read is treated as opaque). Returns
/// the bytes read, to be replayed.
pub(crate) async fn detect<I: AsyncRead + Unpin>(
    io: &mut I,
    timeout: Duration,
) -> std::io::Result<(Detected, BytesMut)> {
    let mut buf = BytesMut::with_capacity(1024);
    let reading = async {
        loop {
            if buf.len() >= MAX_DETECT_BYTES {
                return Ok(Detected::Opaque);
            }
            if io.read_buf(&mut buf).await? == 0 {
                // The client finished sending: decide on what there is.
                return Ok(classify(&buf).unwrap_or(Detected::Opaque));
            }
            if let Some(detected) = classify(&buf) {
                return Ok(detected);
            }
        }
    };
    match tokio::time::timeout(timeout, reading).await {
        Ok(Ok(detected)) => Ok((detected, buf)),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok((Detected::Opaque, buf)),
    }
}

#[cfg(test)]
mod tests;
