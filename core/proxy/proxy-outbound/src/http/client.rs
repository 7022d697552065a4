//! One HTTP connection pool per endpoint, over the pluggable connector.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Uri;
use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::connect::{Connect, EndpointTarget};

/// The body of forwarded requests: buffered (replayable) or streamed.
pub(crate) type ReqBody = BoxBody<Bytes, hyper::Error>;

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Opens connections to one endpoint, whatever URI the pool asks for: the
/// pool is per endpoint, so the URI only names the authority sent.
#[derive(Clone)]
pub(crate) struct EndpointConnector<C> {
    connect: C,
    target: Arc<EndpointTarget>,
    timeout: Duration,
}

impl<C: Connect> tower::Service<Uri> for EndpointConnector<C> {
    type Response = Conn<C::Io>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Conn<C::Io>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let connect = self.connect.clone();
        let target = self.target.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connect.connect(&target)).await {
                Ok(Ok(io)) => Ok(Conn {
                    io: TokioIo::new(io),
                    connected_at: Instant::now(),
                }),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting to {} timed out after {timeout:?}", target.addr),
                )),
            }
        })
    }
}

/// When the connection a response came over was established (connected
/// and, to a meshed endpoint, through its TLS handshake), carried in every
/// response's extensions. A request that waited for its connection counts
/// its latency from here: peak-EWMA estimates how fast an endpoint answers,
/// and one that was just connected to is not slower for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectedAt(pub(crate) Instant);

/// A connection to an endpoint in hyper's I/O traits.
pub(crate) struct Conn<T> {
    io: TokioIo<T>,
    connected_at: Instant,
}

impl<T> Connection for Conn<T> {
    fn connected(&self) -> Connected {
        Connected::new().extra(ConnectedAt(self.connected_at))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> hyper::rt::Read for Conn<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> hyper::rt::Write for Conn<T> {
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

/// The pools of one endpoint: HTTP/1.1 requests go over HTTP/1.1
/// connections and HTTP/2 requests over HTTP/2 ones, as they came in.
pub(crate) struct Pools<C: Connect> {
    pub(crate) http1: Client<EndpointConnector<C>, ReqBody>,
    pub(crate) http2: Client<EndpointConnector<C>, ReqBody>,
}

impl<C: Connect> Pools<C> {
    /// Pools for `target`; nothing connects until the first request.
    pub(crate) fn new(connect: C, target: Arc<EndpointTarget>, connect_timeout: Duration) -> Self {
        let connector = EndpointConnector {
            connect,
            target,
            timeout: connect_timeout,
        };
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new());
        let http1 = builder.build(connector.clone());
        builder.http2_only(true);
        let http2 = builder.build(connector);
        Pools { http1, http2 }
    }
}
