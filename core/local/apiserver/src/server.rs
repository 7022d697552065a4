//! Accepting connections: TLS with the run's serving certificate, HTTP/1.1,
//! the bearer token checked on every request before anything else, and
//! every connection dropped the moment the cluster's reachability switch is
//! cut (an API server outage as its clients see one).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use strait_store::{MemoryStore, Reachability};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::pods::ClusterHost;
use crate::status::ApiError;
use crate::tls::ServingTls;

/// The body of every answer: whole, or a stream (watches, logs).
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait to be accepted. Clients that
/// never authenticate cannot hold more than this.
const MAX_CONNECTIONS: usize = 1024;

/// What one cluster's API server serves, and to whom.
#[derive(Clone)]
pub struct ApiConfig {
    /// The cluster's name, in logs and in the CA's name.
    pub cluster: String,
    /// The cluster's objects.
    pub store: MemoryStore,
    /// The bearer token every request must carry.
    pub token: String,
    /// The run's CA and serving certificate.
    pub tls: Arc<ServingTls>,
    /// The switch that makes this API server unreachable.
    pub reachability: Reachability,
    /// The cluster's running pods, for `pods/log`; none in a cluster that
    /// runs no workloads.
    pub host: Option<Arc<dyn ClusterHost>>,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

/// The API server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not a loopback one: the API is this machine's.
    #[error(
        "{addr} is not a loopback address: a local cluster's API serves this machine only (use 127.0.0.1 or [::1])"
    )]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Serves `config`'s cluster on `addr` (loopback; port 0 for any free
/// port). Returns the bound address and the accepting task; aborting it
/// stops accepting (open connections end with their clients).
pub async fn serve(
    addr: SocketAddr,
    config: ApiConfig,
) -> Result<(SocketAddr, JoinHandle<()>), ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback { addr });
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let acceptor = TlsAcceptor::from(config.tls.server_config());
    let state = Arc::new(crate::handler::State::new(config, bound));
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let task = tokio::spawn(async move {
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::debug!(%error, "accepting an API connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if state.config.reachability.is_down() {
                drop(stream);
                continue;
            }
            let serving = connection(stream, acceptor.clone(), state.clone());
            tokio::spawn(async move {
                serving.await;
                drop(slot);
            });
        }
    });
    Ok((bound, task))
}

/// One client connection, until it ends or the switch is cut.
async fn connection(
    stream: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    state: Arc<crate::handler::State>,
) {
    let mut down = state.config.reachability.subscribe();
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%error, "API TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let service = service_fn(move |request: Request<Incoming>| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(answer(&state, request).await) }
    });
    let serving = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service);
    tokio::select! {
        result = serving => {
            if let Err(error) = result {
                tracing::debug!(%error, "API connection ended");
            }
        }
        _ = down.wait_for(|down| *down) => {}
    }
}

/// Authenticates, then hands the request to the router.
async fn answer(state: &crate::handler::State, request: Request<Incoming>) -> Response<Body> {
    if !authorized(&state.config.token, &request) {
        return crate::handler::error(&ApiError::unauthorized());
    }
    crate::handler::handle(state, request).await
}

/// Whether the request carries the token, compared in constant time.
fn authorized<B>(token: &str, request: &Request<B>) -> bool {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return false;
    };
    let Some(given) = value.as_bytes().strip_prefix(b"Bearer ") else {
        return false;
    };
    !token.is_empty() && bool::from(given.ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests;
