//! A list of HTTP/1 connections to one peer.

use std::time::{Duration, Instant};

use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use hyper::body::{Body, Incoming};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use parking_lot::{Mutex, MutexGuard};
use tracing::debug;

use super::{Connect, ConnectedAt, PoolError};

/// How long an idle connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The most connections kept: as many as HTTP/2 streams a client
/// connection may have open at once (hyper's server allows 200). Past it,
/// a new connection serves its request and closes.
pub const MAX_POOLED: usize = 256;

/// One connection's request handle, when it was opened, and when a
/// request last went on it.
struct Pooled<B> {
    sender: http1::SendRequest<B>,
    connected_at: Instant,
    used: Instant,
}

/// HTTP/1 connections to one peer: searched from the most recently used
/// end for one ready for a request; one idle for [`IDLE_TIMEOUT`] or
/// closed by the peer is dropped when a search passes it.
pub struct Http1Pool<C, B> {
    connect: C,
    /// Whether requests keep their absolute-form target (as a forward
    /// proxy's client sends them), or go in origin form.
    absolute_form: bool,
    senders: Mutex<Vec<Pooled<B>>>,
}

impl<C, B> Http1Pool<C, B>
where
    C: Connect,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// A pool opening its connections with `connect`; nothing connects
    /// until the first request.
    pub fn new(connect: C, absolute_form: bool) -> Self {
        Http1Pool {
            connect,
            absolute_form,
            senders: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` (HTTP/1, with its `Host`) over a ready connection,
    /// or a new one, and waits for the response's head; returns it with
    /// when its connection was made. A request a reused connection could
    /// not take (the peer closed it meanwhile) goes once more, over a new
    /// connection.
    pub async fn send(
        &self,
        mut request: Request<B>,
    ) -> Result<(Response<Incoming>, ConnectedAt), PoolError> {
        if !self.absolute_form {
            origin_form(request.uri_mut());
        }
        let now = Instant::now();
        let mut checked = self.checkout(now);
        if checked.is_none() && !self.is_empty() {
            // A connection whose response just ended is ready once its
            // task has run, which its last read woke: let it run first
            // rather than open another connection.
            tokio::task::yield_now().await;
            checked = self.checkout(now);
        }
        let (mut sender, mut connected_at, mut reused) = match checked {
            Some((sender, connected_at)) => (sender, connected_at, true),
            None => {
                let (sender, connected_at) = self.open().await?;
                (sender, connected_at, false)
            }
        };
        loop {
            match sender.try_send_request(request).await {
                Ok(response) => {
                    self.checkin(sender, connected_at, now);
                    return Ok((response, ConnectedAt(connected_at)));
                }
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) if reused => {
                        debug!(
                            "a pooled HTTP/1 connection closed before its request; reconnecting"
                        );
                        request = unsent;
                        (sender, connected_at) = self.open().await?;
                        reused = false;
                    }
                    _ => return Err(PoolError::Http(failed.into_error())),
                },
            }
        }
    }

    /// How many connections the pool holds (in use or idle).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the pool holds no connection.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Pooled<B>>> {
        self.senders.lock()
    }

    /// Takes the most recently used connection that is ready for a
    /// request, dropping the closed and the long idle ones.
    fn checkout(&self, now: Instant) -> Option<(http1::SendRequest<B>, Instant)> {
        let mut senders = self.lock();
        senders.retain(|p| {
            !p.sender.is_closed() && now.saturating_duration_since(p.used) < IDLE_TIMEOUT
        });
        let ready = senders.iter().rposition(|p| p.sender.is_ready())?;
        let pooled = senders.remove(ready);
        Some((pooled.sender, pooled.connected_at))
    }

    /// Puts a connection that has a request in flight back: it is found
    /// ready again once that request's response ended. Past
    /// [`MAX_POOLED`], it is dropped, and closes after that response.
    fn checkin(&self, sender: http1::SendRequest<B>, connected_at: Instant, used: Instant) {
        let mut senders = self.lock();
        if senders.len() < MAX_POOLED {
            senders.push(Pooled {
                sender,
                connected_at,
                used,
            });
        }
    }

    async fn open(&self) -> Result<(http1::SendRequest<B>, Instant), PoolError> {
        let io = self.connect.connect().await.map_err(PoolError::Connect)?;
        let connected_at = Instant::now();
        let (mut sender, connection) = http1::handshake(TokioIo::new(io)).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "pooled HTTP/1 connection ended");
            }
        });
        sender.ready().await?;
        Ok((sender, connected_at))
    }
}

/// Makes `uri` the origin-form target an HTTP/1 server expects from a
/// client that is not a forward proxy: its path and query only.
pub(super) fn origin_form(uri: &mut Uri) {
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
