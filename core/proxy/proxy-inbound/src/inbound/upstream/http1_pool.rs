//! HTTP/1 connections to the application for the requests another proxy
//! sent as HTTP/2 streams over one client connection: as many as are in
//! use at once, each reused for the next request once its last response
//! ended.
//!
//! The pool belongs to one client connection, so to one application
//! address and one target form: it is a list, searched from the most
//! recently used end for a connection ready for a request, with nothing
//! hashed, no task per request to hand a connection back, and nothing to
//! expire but what the search passes. A connection idle for
//! [`IDLE_TIMEOUT`] or closed by the application is dropped when a search
//! passes it; past [`MAX_POOLED`] connections, a new one serves its
//! request and closes.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use hyper::body::{Body, Incoming};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tracing::debug;

use super::{UpstreamError, connect_tcp};

/// How long an idle connection to the application is kept.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The most connections kept: as many as HTTP/2 streams a client
/// connection may have open at once (hyper's server allows 200).
pub(crate) const MAX_POOLED: usize = 256;

/// One connection's request handle, and when a request last went on it.
struct Pooled<B> {
    sender: http1::SendRequest<B>,
    used: Instant,
}

/// The HTTP/1 connections to one application address, in one target form.
pub(crate) struct Http1Pool<B> {
    app: SocketAddr,
    connect_timeout: Duration,
    /// Whether requests keep their absolute-form target (as a forward
    /// proxy's client sends them), or go in origin form.
    absolute_form: bool,
    senders: Mutex<Vec<Pooled<B>>>,
}

impl<B> Http1Pool<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    pub(crate) fn new(app: SocketAddr, connect_timeout: Duration, absolute_form: bool) -> Self {
        Http1Pool {
            app,
            connect_timeout,
            absolute_form,
            senders: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` (already HTTP/1, with its `Host`) over a ready
    /// connection, or a new one, and waits for the response's head. A
    /// request a reused connection could not take (the application closed
    /// it meanwhile) goes once more, over a new connection.
    pub(crate) async fn send(
        &self,
        mut request: Request<B>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        if !self.absolute_form {
            origin_form(request.uri_mut());
        }
        let now = Instant::now();
        let (mut sender, mut reused) = match self.checkout(now) {
            Some(sender) => (sender, true),
            None => (self.connect().await?, false),
        };
        loop {
            match sender.try_send_request(request).await {
                Ok(response) => {
                    self.checkin(sender, now);
                    return Ok(response);
                }
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) if reused => {
                        debug!(app = %self.app, "a pooled application connection closed; reconnecting");
                        request = unsent;
                        sender = self.connect().await?;
                        reused = false;
                    }
                    _ => return Err(UpstreamError::Http(failed.into_error())),
                },
            }
        }
    }

    /// How many connections the pool holds (in use or idle).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Pooled<B>>> {
        self.senders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the most recently used connection that is ready for a
    /// request, dropping the closed and the long idle ones.
    fn checkout(&self, now: Instant) -> Option<http1::SendRequest<B>> {
        let mut senders = self.lock();
        senders.retain(|p| {
            !p.sender.is_closed() && now.saturating_duration_since(p.used) < IDLE_TIMEOUT
        });
        let ready = senders.iter().rposition(|p| p.sender.is_ready())?;
        Some(senders.remove(ready).sender)
    }

    /// Puts a connection that has a request in flight back: it is found
    /// ready again once that request's response ended. Past
    /// [`MAX_POOLED`], it is dropped, and closes after that response.
    fn checkin(&self, sender: http1::SendRequest<B>, used: Instant) {
        let mut senders = self.lock();
        if senders.len() < MAX_POOLED {
            senders.push(Pooled { sender, used });
        }
    }

    async fn connect(&self) -> Result<http1::SendRequest<B>, UpstreamError> {
        let stream = connect_tcp(self.app, self.connect_timeout).await?;
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "application HTTP/1 connection ended");
            }
        });
        sender.ready().await?;
        Ok(sender)
    }
}

/// Makes `uri` the origin-form target an HTTP/1 server expects from a
/// client that is not a forward proxy: its path and query only.
fn origin_form(uri: &mut Uri) {
    if uri.scheme().is_none() && uri.authority().is_none() {
        return;
    }
    let path = uri
        .path_and_query()
        .filter(|path| !path.as_str().is_empty())
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    *uri = Uri::from(path);
}

#[cfg(test)]
mod tests;
