//! Counting the bytes a connection carries.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection that reports the bytes read from it to `on_read` and the
/// bytes written to it to `on_write`, as each read or write completes.
/// Counting as the bytes pass (rather than totalling at the end) keeps the
/// counts right for a connection that fails half-way, and lets a scrape see
/// a long-lived connection's traffic while it is open.
///
/// The callbacks take the number of bytes; they are usually a metric
/// counter's `inc_by`.
pub struct CountedIo<I, R, W> {
    io: I,
    on_read: R,
    on_write: W,
}

impl<I, R, W> CountedIo<I, R, W>
where
    R: Fn(u64),
    W: Fn(u64),
{
    /// `io`, reporting the bytes read to `on_read` and the bytes written to
    /// `on_write`.
    pub fn new(io: I, on_read: R, on_write: W) -> Self {
        CountedIo {
            io,
            on_read,
            on_write,
        }
    }
}

impl<I, R, W> CountedIo<I, R, W> {
    /// Reports `polled`, the result of a write, to `on_write`.
    fn written(&self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>>
    where
        W: Fn(u64),
    {
        if let Poll::Ready(Ok(n)) = polled
            && n > 0
        {
            (self.on_write)(n as u64);
        }
        polled
    }
}

impl<I, R, W> std::fmt::Debug for CountedIo<I, R, W>
where
    I: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountedIo")
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

impl<I, R, W> AsyncRead for CountedIo<I, R, W>
where
    I: AsyncRead + Unpin,
    R: Fn(u64) + Unpin,
    W: Unpin,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            (self.on_read)(n as u64);
        }
        polled
    }
}

impl<I, R, W> AsyncWrite for CountedIo<I, R, W>
where
    I: AsyncWrite + Unpin,
    R: Unpin,
    W: Fn(u64) + Unpin,
{
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.written(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.written(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
