//! The connection to the application behind one client connection, in the
//! HTTP version the client used: HTTP/1 requests go one at a time over it
//! (as they arrive), HTTP/2 streams are multiplexed over it. It is opened on
//! the first admitted request and reopened if the application closed it.

use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tracing::debug;

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
}

impl Upstream {
    pub(crate) fn new(app: Option<SocketAddr>, http2: bool, connect_timeout: Duration) -> Self {
        Upstream {
            app,
            http2,
            connect_timeout,
            sender: Mutex::new(None),
        }
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

    async fn connect(&self) -> Result<Sender, UpstreamError> {
        let addr = self.app.ok_or(UpstreamError::NoAddress)?;
        let stream =
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(source)) => return Err(UpstreamError::Connect { addr, source }),
                Err(_) => return Err(UpstreamError::ConnectTimeout(addr)),
            };
        // Small requests and responses should not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
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
