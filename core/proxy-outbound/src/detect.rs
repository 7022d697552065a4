//! Protocol detection from a connection's first bytes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The client's first bytes of an HTTP/2 connection.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How much is read looking for an HTTP/1 request line before the
/// connection is taken as opaque.
const MAX_REQUEST_LINE: usize = 8 * 1024;

/// What a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// It began with an HTTP/1.x request line.
    Http1,
    /// It began with the HTTP/2 connection preface.
    Http2,
    /// Anything else, or nothing within the detection timeout.
    Opaque,
}

/// Reads the first bytes of `io` to tell its protocol, giving up (opaque)
/// after `timeout` so server-first protocols still get through. Returns
/// the protocol and the bytes read, which must be replayed; `None` when the
/// peer closed before sending anything.
pub async fn detect<I: AsyncRead + Unpin>(
    io: &mut I,
    timeout: Duration,
) -> io::Result<Option<(Protocol, Bytes)>> {
    let mut buf = BytesMut::with_capacity(1024);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(protocol) = classify(&buf) {
            return Ok(Some((protocol, buf.freeze())));
        }
        match tokio::time::timeout_at(deadline, io.read_buf(&mut buf)).await {
            Err(_elapsed) => return Ok(Some((Protocol::Opaque, buf.freeze()))),
            Ok(Ok(0)) if buf.is_empty() => return Ok(None),
            Ok(Ok(0)) => return Ok(Some((Protocol::Opaque, buf.freeze()))),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(error),
        }
    }
}

/// The protocol of a connection that began with `buf`; `None` while more
/// bytes are needed to tell.
pub(crate) fn classify(buf: &[u8]) -> Option<Protocol> {
    if buf.is_empty() {
        return None;
    }
    let n = buf.len().min(H2_PREFACE.len());
    if buf[..n] == H2_PREFACE[..n] {
        return (buf.len() >= H2_PREFACE.len()).then_some(Protocol::Http2);
    }
    if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
        return Some(if is_request_line(&buf[..end]) {
            Protocol::Http1
        } else {
            Protocol::Opaque
        });
    }
    if buf.len() >= MAX_REQUEST_LINE || !could_be_method(buf) {
        return Some(Protocol::Opaque);
    }
    None
}

/// `METHOD SP target SP HTTP/1.x`.
fn is_request_line(line: &[u8]) -> bool {
    let mut parts = line.split(|b| *b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !method.is_empty()
        && method
            .iter()
            .all(|b| b.is_ascii_uppercase() || *b == b'-' || *b == b'_')
        && !target.is_empty()
        && (version == b"HTTP/1.1" || version == b"HTTP/1.0")
}

/// Whether the bytes so far can still start a request line: a method
/// token, then printable characters.
fn could_be_method(buf: &[u8]) -> bool {
    let method_end = buf.iter().position(|b| *b == b' ').unwrap_or(buf.len());
    method_end > 0
        && method_end <= 32
        && buf[..method_end]
            .iter()
            .all(|b| b.is_ascii_uppercase() || *b == b'-' || *b == b'_')
        && buf[method_end..]
            .iter()
            .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\r')
}

/// A connection whose first bytes were already read: they are read again
/// first.
#[derive(Debug)]
pub(crate) struct PrefixedIo<I> {
    prefix: Bytes,
    io: I,
}

impl<I> PrefixedIo<I> {
    pub(crate) fn new(prefix: Bytes, io: I) -> Self {
        PrefixedIo { prefix, io }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for PrefixedIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for PrefixedIo<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
