//! The client connection pools of both sides of the proxy: the inbound
//! side's to the application, per client connection, and the outbound
//! side's to each endpoint.
//!
//! A pool serves one peer (one address, one target form), so it is not a
//! map: [`Http1Pool`] is a list of HTTP/1 connections, as many as have
//! requests in flight at once, each reused once its last response ended;
//! [`Http2Pool`] is one multiplexed HTTP/2 connection, opened again when
//! the peer closed it. Nothing is hashed and no task is spawned per
//! request; each response comes with [`ConnectedAt`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};

mod http1;
mod http2;

pub use http1::{Http1Pool, IDLE_TIMEOUT, MAX_POOLED};
pub use http2::Http2Pool;

/// When the connection a response came over was established (connected
/// and, to a meshed endpoint, through its TLS handshake), returned with
/// every response. A request that waited for its connection counts
/// its latency from here: peak-EWMA estimates how fast an endpoint answers,
/// and one that was just connected to is not slower for it.
#[derive(Clone, Copy, Debug)]
pub struct ConnectedAt(pub Instant);

/// A connection being opened.
pub type Connecting<Io> = Pin<Box<dyn Future<Output = io::Result<Io>> + Send>>;

/// Opens the connections of one pool, to its one peer.
pub trait Connect: Send + Sync + 'static {
    /// The connection (TCP, or TLS over it).
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Opens a connection, within the caller's connect timeout; the error
    /// names the peer.
    fn connect(&self) -> Connecting<Self::Io>;
}

/// Why a pool could not get a response.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No connection could be opened: the request was not sent.
    #[error("{0}")]
    Connect(#[source] io::Error),
    /// The HTTP connection failed (its handshake, or the request on it).
    #[error("{0}")]
    Http(#[from] hyper::Error),
}

impl PoolError {
    /// Whether the request never left: no connection could be opened.
    pub fn is_connect(&self) -> bool {
        matches!(self, PoolError::Connect(_))
    }
}

#[cfg(test)]
mod tests;
