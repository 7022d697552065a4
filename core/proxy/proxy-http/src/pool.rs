//! The connections hyper's client pools hold, on both sides of the proxy:
//! the inbound side's pools to the application and the outbound side's
//! pools to endpoints.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// When the connection a response came over was established (connected
/// and, to a meshed endpoint, through its TLS handshake), carried in every
/// response's extensions. A request that waited for its connection counts
/// its latency from here: peak-EWMA estimates how fast an endpoint answers,
/// and one that was just connected to is not slower for it.
#[derive(Clone, Copy, Debug)]
pub struct ConnectedAt(pub Instant);

/// A connection in hyper's I/O traits, as a client pool holds it.
pub struct PooledIo<T> {
    io: TokioIo<T>,
    connected_at: Instant,
    absolute_form: bool,
}

impl<T> PooledIo<T> {
    /// A connection established now, whose requests go in origin form.
    pub fn new(io: T) -> Self {
        PooledIo {
            io: TokioIo::new(io),
            connected_at: Instant::now(),
            absolute_form: false,
        }
    }

    /// Sends requests over it with their targets in absolute form, as a
    /// forward proxy's client would (hyper's pool does so for a
    /// "proxied" connection).
    pub fn absolute_form(mut self, absolute_form: bool) -> Self {
        self.absolute_form = absolute_form;
        self
    }
}

impl<T> Connection for PooledIo<T> {
    fn connected(&self) -> Connected {
        Connected::new()
            .proxy(self.absolute_form)
            .extra(ConnectedAt(self.connected_at))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> hyper::rt::Read for PooledIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> hyper::rt::Write for PooledIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_says_when_it_was_made_and_in_which_form_it_sends() {
        let (io, _peer) = tokio::io::duplex(64);
        let before = Instant::now();
        let pooled = PooledIo::new(io).absolute_form(true);
        let connected = pooled.connected();
        assert!(connected.is_proxied());
        let mut extensions = http::Extensions::new();
        connected.get_extras(&mut extensions);
        let at = extensions.get::<ConnectedAt>().map(|c| c.0);
        assert!(at.is_some_and(|at| at >= before), "{at:?}");

        let (io, _peer) = tokio::io::duplex(64);
        assert!(!PooledIo::new(io).connected().is_proxied());
    }
}
