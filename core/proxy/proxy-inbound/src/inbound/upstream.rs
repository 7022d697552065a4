//! The connection to the application behind one client connection, in the
//! HTTP version the client used: HTTP/1 requests go one at a time over it
//! (as they arrive), HTTP/2 streams are multiplexed over it. It is opened on
//! the first admitted request and reopened if the application closed it.
//!
//! HTTP/1 requests another proxy sent as HTTP/2 streams (see
//! `strait_proxy_http`) arrive concurrently on one connection; they go to
//! the application over a pool of HTTP/1 connections kept for the client
//! connection, as many as are in use at once (`strait_proxy_http::pool`).
//!
//! A request that wants an upgrade goes over a connection of its own,
//! which it takes over if the application agrees.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use strait_proxy_http::pool::{Connect, Connecting, Http1Pool, PoolError};
use strait_proxy_http::{OrigProto, http_upgrade};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tracing::debug;

/// Why a request could not be passed to the application (answered 502).
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("no application address for this port")]
    NoAddress,
    #[error(transparent)]
    Connect(#[from] std::io::Error),
    #[error("the application's HTTP connection failed: {0}")]
    Http(#[from] hyper::Error),
    #[error("the application's HTTP connection failed: {0}")]
    Pool(#[from] PoolError),
}

enum Sender {
    Http1(http1::SendRequest<Incoming>),
    Http2(http2::SendRequest<Incoming>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        }
    }
}

pub(crate) struct Upstream {
    app: Option<SocketAddr>,
    http2: bool,
    connect_timeout: Duration,
    sender: Mutex<Option<Sender>>,
    /// The HTTP/1 pools for downgraded requests, by target form (origin,
    /// absolute), made on first use.
    downgraded: OnceLock<[Http1Pool<AppConnect, Incoming>; 2]>,
}

impl Upstream {
    pub(crate) fn new(app: Option<SocketAddr>, http2: bool, connect_timeout: Duration) -> Self {
        Upstream {
            app,
            http2,
            connect_timeout,
            sender: Mutex::new(None),
            downgraded: OnceLock::new(),
        }
    }

    /// Sends a request that came upgraded to HTTP/2 (and was restored to
    /// `orig`) to the application in its original HTTP/1 version and
    /// target form, and waits for its response headers.
    pub(crate) async fn send_downgraded(
        &self,
        request: Request<Incoming>,
        orig: OrigProto,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let app = self.app.ok_or(UpstreamError::NoAddress)?;
        let [origin_form, absolute_form] = self.downgraded.get_or_init(|| {
            [false, true].map(|absolute_form| {
                let connect = AppConnect {
                    app,
                    timeout: self.connect_timeout,
                };
                Http1Pool::new(connect, absolute_form)
            })
        });
        let pool = if orig.absolute_form {
            absolute_form
        } else {
            origin_form
        };
        Ok(pool.send(request).await?.0)
    }

    /// Sends `request` to the application and waits for its response
    /// headers.
    pub(crate) async fn send(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let mut guard = self.sender.lock().await;
        if guard.as_ref().is_none_or(Sender::is_closed) {
            *guard = Some(self.connect().await?);
        }
        match guard.as_mut() {
            Some(Sender::Http1(sender)) => {
                if let Err(e) = sender.ready().await {
                    *guard = None;
                    return Err(e.into());
                }
                let response = sender.send_request(request);
                // The next request waits for this one's response anyway
                // (the client's HTTP/1 connection is sequential).
                drop(guard);
                Ok(response.await?)
            }
            Some(Sender::Http2(sender)) => {
                let mut sender = sender.clone();
                drop(guard);
                sender.ready().await?;
                Ok(sender.send_request(request).await?)
            }
            None => Err(UpstreamError::NoAddress),
        }
    }

    /// Sends a request that wants an upgrade (`strait_proxy_http::http_upgrade`)
    /// over a new connection to the application, which the upgrade takes
    /// over if the application switches protocols, and waits for the
    /// answer's head.
    pub(crate) async fn send_upgrade(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let stream = self.connect_tcp().await?;
        Ok(http_upgrade::send(stream, request).await?)
    }

    async fn connect_tcp(&self) -> Result<TcpStream, UpstreamError> {
        let app = self.app.ok_or(UpstreamError::NoAddress)?;
        Ok(connect_tcp(app, self.connect_timeout).await?)
    }

    async fn connect(&self) -> Result<Sender, UpstreamError> {
        let io = TokioIo::new(self.connect_tcp().await?);
        if self.http2 {
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(io)
                .await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    debug!(error = %e, "application HTTP/2 connection ended");
                }
            });
            Ok(Sender::Http2(sender))
        } else {
            let (sender, connection) = http1::handshake(io).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    debug!(error = %e, "application HTTP/1 connection ended");
                }
            });
            Ok(Sender::Http1(sender))
        }
    }
}

/// Opens the connections of a pool to the application.
pub(crate) struct AppConnect {
    app: SocketAddr,
    timeout: Duration,
}

impl Connect for AppConnect {
    type Io = TcpStream;

    fn connect(&self) -> Connecting<TcpStream> {
        Box::pin(connect_tcp(self.app, self.timeout))
    }
}

/// Connects to the application at `addr`, within `timeout`; the error
/// names it.
async fn connect_tcp(addr: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("connecting to the application at {addr}: {e}"),
            ));
        }
        Err(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("connecting to the application at {addr} timed out after {timeout:?}"),
            ));
        }
    };
    // Small requests and responses should not wait for Nagle.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}
