//! One multiplexed HTTP/2 connection to one peer.

use std::time::Instant;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use parking_lot::{Mutex, MutexGuard};
use tracing::debug;

use super::{Connect, ConnectedAt, PoolError};

/// The HTTP/2 connection to one peer, shared by every request: opened on
/// the first, and again (by one request, the others waiting for it) once
/// the peer closed it.
pub struct Http2Pool<C, B> {
    connect: C,
    current: Mutex<Option<(http2::SendRequest<B>, Instant)>>,
    /// Held while a connection is opened, so only one is.
    opening: tokio::sync::Mutex<()>,
}

impl<C, B> Http2Pool<C, B>
where
    C: Connect,
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// A pool opening its connection with `connect`; nothing connects
    /// until the first request.
    pub fn new(connect: C) -> Self {
        Http2Pool {
            connect,
            current: Mutex::new(None),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// Sends `request` (HTTP/2, its URI absolute) as a stream of the
    /// connection, and waits for the response's head; returns it with when
    /// the connection was made. A request the connection could not take
    /// (the peer closed it meanwhile) goes once more, over a new
    /// connection.
    pub async fn send(
        &self,
        mut request: Request<B>,
    ) -> Result<(Response<Incoming>, ConnectedAt), PoolError> {
        let mut retried = false;
        loop {
            let (mut sender, connected_at) = self.sender().await?;
            sender.ready().await?;
            match sender.try_send_request(request).await {
                Ok(response) => return Ok((response, ConnectedAt(connected_at))),
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) if !retried => {
                        debug!("the HTTP/2 connection closed before the request; reconnecting");
                        request = unsent;
                        retried = true;
                        self.forget_closed();
                    }
                    _ => return Err(PoolError::Http(failed.into_error())),
                },
            }
        }
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.lock().as_ref().is_some_and(|(s, _)| !s.is_closed())
    }

    fn lock(&self) -> MutexGuard<'_, Option<(http2::SendRequest<B>, Instant)>> {
        self.current.lock()
    }

    fn open_one(&self) -> Option<(http2::SendRequest<B>, Instant)> {
        self.lock()
            .as_ref()
            .filter(|(sender, _)| !sender.is_closed())
            .map(|(sender, at)| (sender.clone(), *at))
    }

    /// The open connection, or a new one.
    async fn sender(&self) -> Result<(http2::SendRequest<B>, Instant), PoolError> {
        if let Some(open) = self.open_one() {
            return Ok(open);
        }
        let _opening = self.opening.lock().await;
        // Another request may have opened it while this one waited.
        if let Some(open) = self.open_one() {
            return Ok(open);
        }
        let io = self.connect.connect().await.map_err(PoolError::Connect)?;
        let connected_at = Instant::now();
        let (sender, connection) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .handshake(TokioIo::new(io))
            .await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "pooled HTTP/2 connection ended");
            }
        });
        *self.lock() = Some((sender.clone(), connected_at));
        Ok((sender, connected_at))
    }

    /// Drops the current connection if it is closed (one that another
    /// request already opened again is kept).
    fn forget_closed(&self) {
        let mut current = self.lock();
        if current.as_ref().is_some_and(|(s, _)| s.is_closed()) {
            *current = None;
        }
    }
}
