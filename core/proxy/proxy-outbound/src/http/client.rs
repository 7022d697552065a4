//! One HTTP connection pool per endpoint, over the pluggable connector,
//! and single connections to it for upgrades.

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
        let connector = self.clone();
        Box::pin(async move { connector.open().await.map(PooledIo::new) })
    }
}

impl<C: Connect> EndpointConnector<C> {
    /// A new connection to the endpoint, within the connect timeout.
    pub(crate) async fn open(&self) -> io::Result<C::Io> {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.connect.connect(&self.target)).await {
            Ok(connected) => connected,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "connecting to {} timed out after {timeout:?}",
                    self.target.addr
                ),
            )),
        }
    }
}

/// The pools of one endpoint: HTTP/1.1 requests go over HTTP/1.1
/// connections and HTTP/2 requests over HTTP/2 ones, as they came in;
/// a request that wants an upgrade goes over a connection of its own,
/// which no pool holds (the upgrade may take it over).
pub(crate) struct Pools<C: Connect> {
    pub(crate) http1: Client<EndpointConnector<C>, ReqBody>,
    pub(crate) http2: Client<EndpointConnector<C>, ReqBody>,
    pub(crate) own: EndpointConnector<C>,
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
        let http2 = builder.build(connector.clone());
        Pools {
            http1,
            http2,
            own: connector,
        }
    }
}
