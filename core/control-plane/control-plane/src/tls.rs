//! Accepting the control plane's TLS connections for tonic.
//!
//! Handshakes run in tasks of their own, bounded in number and time, so a
//! client that opens connections and never finishes a handshake holds no
//! one else up; only finished handshakes reach the gRPC server, each with
//! the client identity its certificate proved ([`ControlPeer`]), which
//! tonic puts on every request of the connection.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use rustls::ServerConfig;
use strait_tls::control::ControlPeer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

/// How long a client has to finish its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many handshakes may be in progress at once; connections beyond
/// are closed at once rather than queued.
pub const MAX_HANDSHAKES: usize = 1024;

/// How the control plane's server speaks to its clients.
#[derive(Clone, Debug)]
pub enum ServerTransport {
    /// Plaintext, allowed only on a loopback address (`strait local`, a
    /// controller beside its clients): nothing off the host can be on the
    /// path.
    Plaintext,
    /// TLS with the current configuration `configs` holds (it changes as
    /// the certificate is renewed); while it holds none, connections are
    /// closed unanswered.
    Tls(watch::Receiver<Option<Arc<ServerConfig>>>),
}

/// A TLS connection whose handshake finished.
pub(crate) struct TlsConn {
    io: TlsStream<TcpStream>,
    peer: ControlPeer,
}

impl Connected for TlsConn {
    type ConnectInfo = ControlPeer;

    fn connect_info(&self) -> ControlPeer {
        self.peer.clone()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The connections of `listener` after their handshakes, as the stream
/// tonic serves. The accepting task stops when the stream is dropped.
pub(crate) fn incoming(
    listener: TcpListener,
    configs: watch::Receiver<Option<Arc<ServerConfig>>>,
) -> impl Stream<Item = Result<TlsConn, io::Error>> + Send + 'static {
    let (ready, accepted) = mpsc::channel(64);
    tokio::spawn(accept(listener, configs, ready));
    futures::stream::unfold(accepted, |mut accepted| async move {
        let conn = accepted.recv().await?;
        Some((Ok(conn), accepted))
    })
}

async fn accept(
    listener: TcpListener,
    configs: watch::Receiver<Option<Arc<ServerConfig>>>,
    ready: mpsc::Sender<TlsConn>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let (tcp, remote) = tokio::select! {
            () = ready.closed() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "accepting a control-plane connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(config) = configs.borrow().clone() else {
            tracing::info!(peer = %remote, "no certificate yet; closing the connection");
            continue;
        };
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            tracing::warn!(peer = %remote, "too many TLS handshakes in progress; closing the connection");
            continue;
        };
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Some(conn) = handshake(tcp, remote, config).await {
                let _ = ready.send(conn).await;
            }
        });
    }
}

async fn handshake(
    tcp: TcpStream,
    remote: SocketAddr,
    config: Arc<ServerConfig>,
) -> Option<TlsConn> {
    let _ = tcp.set_nodelay(true);
    let io = match tokio::time::timeout(HANDSHAKE_TIMEOUT, TlsAcceptor::from(config).accept(tcp))
        .await
    {
        Ok(Ok(io)) => io,
        Ok(Err(error)) => {
            tracing::info!(peer = %remote, %error, "TLS handshake refused");
            return None;
        }
        Err(_) => {
            tracing::info!(peer = %remote, "TLS handshake not finished in time");
            return None;
        }
    };
    let identity = io
        .get_ref()
        .1
        .peer_certificates()
        .and_then(strait_tls::peer_identity);
    Some(TlsConn {
        io,
        peer: ControlPeer { remote, identity },
    })
}
