//! One HTTP connection pool per endpoint, over the pluggable connector,
//! and single connections to it for upgrades.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use strait_proxy_http::pool::{Connect as PoolConnect, Connecting, Http1Pool, Http2Pool};

use crate::connect::{Connect, EndpointTarget};

/// The body of forwarded requests: buffered (replayable) or streamed.
pub(crate) type ReqBody = BoxBody<Bytes, hyper::Error>;

/// Opens connections to one endpoint, for its pools and for requests that
/// want a connection of their own.
#[derive(Clone)]
pub(crate) struct EndpointConnector<C> {
    connect: C,
    target: Arc<EndpointTarget>,
    timeout: Duration,
}

impl<C: Connect> PoolConnect for EndpointConnector<C> {
    type Io = C::Io;

    fn connect(&self) -> Connecting<C::Io> {
        let connector = self.clone();
        Box::pin(async move { connector.open().await })
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
    pub(crate) http1: Http1Pool<EndpointConnector<C>, ReqBody>,
    pub(crate) http2: Http2Pool<EndpointConnector<C>, ReqBody>,
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
        let http1 = Http1Pool::new(connector.clone(), false);
        let http2 = Http2Pool::new(connector.clone());
        Pools {
            http1,
            http2,
            own: connector,
        }
    }
}
