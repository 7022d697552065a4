//! The connection to the application behind one client connection, in the
//! HTTP version the client used: HTTP/1 requests go one at a time over it
//! (as they arrive), HTTP/2 streams are multiplexed over it. It is opened on
//! the first admitted request and reopened if the application closed it.
//!
//! HTTP/1 requests another proxy sent as HTTP/2 streams (see
//! `strait_proxy_http`) arrive concurrently on one connection; they go to
//! the application over a pool of HTTP/1 connections kept for the client
//! connection, as many as are in use at once ([`http1_pool`]).
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
use strait_proxy_http::{OrigProto, http_upgrade};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tracing::debug;

use http1_pool::Http1Pool;

mod http1_pool;

/// Why a request could not be passed to the application (answered 502).
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("no application address for this port")]
    NoAddress,
    #[error("connecting to the application at {0} timed out")]
    ConnectTimeout(SocketAddr),
    #[error("connecting to the application at {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the application's HTTP connection failed: {0}")]
    Http(#[from] hyper::Error),
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
    downgraded: OnceLock<[Http1Pool<Incoming>; 2]>,
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
            [false, true].map(|absolute| Http1Pool::new(app, self.connect_timeout, absolute))
        });
        let pool = if orig.absolute_form {
            absolute_form
        } else {
            origin_form
        };
        pool.send(request).await
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
        connect_tcp(
            self.app.ok_or(UpstreamError::NoAddress)?,
            self.connect_timeout,
        )
        .await
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

/// Connects to the application at `addr`, within `timeout`.
async fn connect_tcp(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, UpstreamError> {
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(source)) => return Err(UpstreamError::Connect { addr, source }),
        Err(_) => return Err(UpstreamError::ConnectTimeout(addr)),
    };
    // Small requests and responses should not wait for Nagle.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}
