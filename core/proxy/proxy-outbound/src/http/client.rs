//! One HTTP connection pool per endpoint, over the pluggable connector.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::combinators::BoxBody;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use strait_proxy_http::pool::PooledIo;

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
    type Response = PooledIo<C::Io>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PooledIo<C::Io>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let connect = self.connect.clone();
        let target = self.target.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connect.connect(&target)).await {
                Ok(Ok(io)) => Ok(PooledIo::new(io)),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting to {} timed out after {timeout:?}", target.addr),
                )),
            }
        })
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
