//! Serving the gathered services on a socket, and stopping them.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::control_plane::Feeder;
use crate::tls::{ServerTransport, incoming};

/// How long [`RunningControlPlane::shutdown`] lets open streams finish:
/// proxies reconnect to another replica on their own, so this only needs
/// to cover answers already being written.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the control plane could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Nothing was added to serve: a configuration mistake, not a runtime
    /// condition, reported rather than serving an empty port.
    #[error("no service to serve: add identity, policy or destination first")]
    NoServices,
    /// Plaintext was asked for on an address that is not loopback: off
    /// the host, the control plane speaks only TLS.
    #[error(
        "refusing to serve the control plane in plaintext on {addr}: only a loopback address may be plaintext"
    )]
    PlaintextOffLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The gRPC server failed while serving.
    #[error("the gRPC server on {addr} failed: {source}")]
    Server {
        /// The address it served.
        addr: SocketAddr,
        /// What failed.
        source: tonic::transport::Error,
    },
    /// The server task ended abnormally (it panicked or was cancelled).
    #[error("the gRPC server on {addr} stopped unexpectedly: {source}")]
    Stopped {
        /// The address it served.
        addr: SocketAddr,
        /// What happened to the task.
        source: tokio::task::JoinError,
    },
}

/// A control plane serving: its address, and the handle to stop it.
///
/// Dropping it stops the server and the feeders too, so a test or an
/// embedded cluster that goes away leaves no tasks behind.
#[derive(Debug)]
pub struct RunningControlPlane {
    addr: SocketAddr,
    services: Vec<&'static str>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    feeders: Vec<JoinHandle<()>>,
}

pub(crate) async fn serve(
    listener: std::net::TcpListener,
    routes: RoutesBuilder,
    feeders: Vec<(&'static str, Feeder)>,
    services: Vec<&'static str>,
    transport: ServerTransport,
) -> Result<RunningControlPlane, ServeError> {
    let bound = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    if matches!(transport, ServerTransport::Plaintext) && !bound.ip().is_loopback() {
        return Err(ServeError::PlaintextOffLoopback { addr: bound });
    }
    let listener = TcpListener::from_std(listener).map_err(|source| ServeError::Bind {
        addr: bound,
        source,
    })?;
    let feeders = feeders
        .into_iter()
        .map(|(name, feeder)| {
            tracing::debug!(feeder = name, "starting");
            tokio::spawn(feeder)
        })
        .collect();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let stopped = async {
        let _ = stopped.await;
    };
    let server = Server::builder().add_routes(routes.routes());
    let tls = matches!(transport, ServerTransport::Tls(_));
    let server = match transport {
        ServerTransport::Plaintext => {
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            tokio::spawn(server.serve_with_incoming_shutdown(incoming, stopped))
        }
        ServerTransport::Tls(configs) => {
            tokio::spawn(server.serve_with_incoming_shutdown(incoming(listener, configs), stopped))
        }
    };
    tracing::info!(addr = %bound, services = ?services, tls, "control plane serving");
    Ok(RunningControlPlane {
        addr: bound,
        services,
        shutdown: Some(shutdown),
        server: Some(server),
        feeders,
    })
}

impl RunningControlPlane {
    /// The address bound (the port chosen when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The services served.
    pub fn services(&self) -> &[&'static str] {
        &self.services
    }

    /// Waits until the server stops by itself, which only happens when it
    /// fails; a process runs this next to its signal handler.
    pub async fn wait(&mut self) -> Result<(), ServeError> {
        match self.server.take() {
            Some(server) => self.join(server).await,
            None => Ok(()),
        }
    }

    /// Stops accepting and stops the feeders, which ends the watch streams
    /// that follow them; streams still open after [`SHUTDOWN_GRACE`] are
    /// cut, so a client that never hangs up cannot hold the process.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        for feeder in self.feeders.drain(..) {
            feeder.abort();
        }
        let Some(mut server) = self.server.take() else {
            return Ok(());
        };
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(source))) => Err(ServeError::Server {
                addr: self.addr,
                source,
            }),
            Ok(Err(source)) => Err(ServeError::Stopped {
                addr: self.addr,
                source,
            }),
            Err(_) => {
                tracing::info!(addr = %self.addr, "streams still open after the grace period; closing them");
                server.abort();
                Ok(())
            }
        }
    }

    async fn join(
        &self,
        server: JoinHandle<Result<(), tonic::transport::Error>>,
    ) -> Result<(), ServeError> {
        match server.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(ServeError::Server {
                addr: self.addr,
                source,
            }),
            Err(source) => Err(ServeError::Stopped {
                addr: self.addr,
                source,
            }),
        }
    }
}

impl Drop for RunningControlPlane {
    fn drop(&mut self) {
        for feeder in &self.feeders {
            feeder.abort();
        }
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}
