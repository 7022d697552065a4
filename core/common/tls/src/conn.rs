//! TLS on sockets: detecting and terminating it on accepted connections,
//! and originating it on outbound ones.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::server::Acceptor;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::{LazyConfigAcceptor, TlsConnector};

use crate::credentials::{Credentials, first_dns_san};
use crate::error::{IdentityNameProblem, TlsError};
use hello::Hello;

mod hello;

/// The first byte of a TLS handshake record (a ClientHello starts with it).
const TLS_HANDSHAKE: u8 = 0x16;
/// The major version byte every TLS record carries (SSL 3.0 to TLS 1.3).
const TLS_MAJOR: u8 = 0x03;

/// Why an accepted connection is not TLS, with the label Linkerd's proxies
/// use in their metrics (`no_tls_reason`), so dashboards built for Linkerd
/// read strait's the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTlsReason {
    /// The client did not start a TLS handshake: it sent plaintext, closed
    /// the connection, or sent nothing before detection gave up.
    NoTlsFromRemote,
    /// The client started TLS for another server or protocol than the
    /// mesh's (the application's own TLS): passed through, not terminated.
    Passthru,
}

impl NoTlsReason {
    /// The `no_tls_reason` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            NoTlsReason::NoTlsFromRemote => "no_tls_from_remote",
            NoTlsReason::Passthru => "passthru",
        }
    }
}

impl std::fmt::Display for NoTlsReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an accepted connection was terminated as TLS, as the inbound
/// side needs to know for policy (unauthenticated clients) and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsStatus {
    /// The handshake completed with our server configuration.
    Established,
    /// The connection is plaintext, for this reason.
    NotTls(NoTlsReason),
}

impl TlsStatus {
    /// Whether the connection is TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, TlsStatus::Established)
    }
}

/// A connection that is plaintext or TLS, read and written through one
/// type: accepted connections (TLS terminated or not) and connections to
/// endpoints (mTLS or, without an identity, plaintext) alike.
#[derive(Debug)]
pub enum MaybeTls<T> {
    /// Plaintext; the socket itself.
    Plain(TcpStream),
    /// TLS over the socket.
    Tls(Box<T>),
}

/// The byte stream of an accepted connection, TLS terminated or not, so the
/// inbound proxy handles both through one type.
pub type AcceptedIo = MaybeTls<tokio_rustls::server::TlsStream<TcpStream>>;

impl<T: AsyncRead + Unpin> AsyncRead for MaybeTls<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(io) => Pin::new(io).poll_read(cx, buf),
            MaybeTls::Tls(io) => Pin::new(io.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for MaybeTls<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(io) => Pin::new(io).poll_write(cx, buf),
            MaybeTls::Tls(io) => Pin::new(io.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(io) => Pin::new(io).poll_flush(cx),
            MaybeTls::Tls(io) => Pin::new(io.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(io) => Pin::new(io).poll_shutdown(cx),
            MaybeTls::Tls(io) => Pin::new(io.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            MaybeTls::Tls(io) => Pin::new(io.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTls::Plain(io) => io.is_write_vectored(),
            MaybeTls::Tls(io) => io.is_write_vectored(),
        }
    }
}

/// An accepted connection after TLS detection (and, for TLS, the handshake).
#[derive(Debug)]
pub struct Accepted {
    /// The bytes after the handshake (TLS) or all of them (plaintext).
    pub io: AcceptedIo,
    /// The identity the client proved with a certificate verified against
    /// the trust roots; `None` for plaintext and for TLS clients that sent
    /// no certificate (unmeshed clients).
    pub client_identity: Option<String>,
    /// Whether TLS was terminated, or why not.
    pub tls: TlsStatus,
    /// Whether the handshake negotiated [`crate::MESH_ALPN`]: the client
    /// (a peer proxy) sends a transport header before anything else, naming
    /// the port the connection is for. Always false for plaintext.
    pub transport_header: bool,
    /// The client's address.
    pub peer_addr: SocketAddr,
}

/// Decides whether an accepted connection speaks TLS by peeking at its
/// first bytes (nothing is consumed), and if so completes the handshake
/// with `credentials`' server configuration.
///
/// A client that sends nothing within `detect_timeout`, or closes first,
/// is handed back as plaintext: the proxy then decides what to do with it
/// (a server-speaks-first protocol is legitimate). Only detection is
/// bounded here; callers bound the whole accept, handshake included, with
/// their own timeout. A failed handshake is an error naming the peer.
pub async fn accept(
    stream: TcpStream,
    credentials: &Credentials,
    detect_timeout: Duration,
) -> Result<Accepted, TlsError> {
    let peer_addr = stream.peer_addr().map_err(|error| TlsError::Detect {
        peer: SocketAddr::from(([0, 0, 0, 0], 0)),
        error,
    })?;
    let mut first = [0u8; 2];
    let is_tls = match tokio::time::timeout(detect_timeout, stream.peek(&mut first)).await {
        Err(_elapsed) => false,
        Ok(Err(error)) => {
            return Err(TlsError::Detect {
                peer: peer_addr,
                error,
            });
        }
        Ok(Ok(n)) => looks_like_tls(&first[..n]),
    };
    if !is_tls {
        return Ok(Accepted {
            io: MaybeTls::Plain(stream),
            client_identity: None,
            tls: TlsStatus::NotTls(NoTlsReason::NoTlsFromRemote),
            transport_header: false,
            peer_addr,
        });
    }
    let handshake_error = |error| TlsError::Handshake {
        peer: peer_addr.to_string(),
        expected: None,
        error,
    };
    // The mesh's hello names this proxy's identity (SNI) and offers no
    // ALPN or Linkerd's transport protocol. Any other is the application's
    // own TLS (HTTPS served by the pod, say): it is passed through
    // untouched, as Linkerd's proxies do, never answered with the proxy's
    // certificate; policy then sees a client without mesh identity.
    let deadline = tokio::time::Instant::now() + detect_timeout;
    match hello::peek_hello(&stream, credentials.identity(), deadline).await {
        Ok(Hello::Mesh) => {}
        Ok(Hello::Foreign { named, alpn }) => {
            tracing::debug!(
                peer = %peer_addr,
                sni = named.as_deref().unwrap_or(""),
                alpn = %alpn.join(","),
                "TLS for another server: passed through"
            );
            return Ok(Accepted {
                io: MaybeTls::Plain(stream),
                client_identity: None,
                tls: TlsStatus::NotTls(NoTlsReason::Passthru),
                transport_header: false,
                peer_addr,
            });
        }
        Err(error) => return Err(hello_error(peer_addr, error)),
    }
    let start = LazyConfigAcceptor::new(Acceptor::default(), stream)
        .await
        .map_err(handshake_error)?;
    let tls = start
        .into_stream(credentials.server_config())
        .await
        .map_err(handshake_error)?;
    let session = tls.get_ref().1;
    let client_identity = session.peer_certificates().and_then(peer_identity);
    let transport_header = session.alpn_protocol() == Some(crate::MESH_ALPN);
    Ok(Accepted {
        io: MaybeTls::Tls(Box::new(tls)),
        client_identity,
        tls: TlsStatus::Established,
        transport_header,
        peer_addr,
    })
}

/// The error for a hello that could not be read, naming the peer.
fn hello_error(peer: SocketAddr, error: hello::HelloError) -> TlsError {
    match error {
        hello::HelloError::Io(error) => TlsError::Detect { peer, error },
        hello::HelloError::Malformed(error) => TlsError::Handshake {
            peer: peer.to_string(),
            expected: None,
            error: std::io::Error::new(std::io::ErrorKind::InvalidData, error),
        },
        hello::HelloError::Incomplete => TlsError::Detect {
            peer,
            error: std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the TLS hello did not arrive whole in time",
            ),
        },
    }
}

/// Whether the first bytes of a connection start a TLS handshake record.
/// A single byte is judged on its own, since waiting for a second one
/// could spin when only one has arrived; no plaintext protocol a proxy
/// sees starts with 0x16.
fn looks_like_tls(first: &[u8]) -> bool {
    matches!(first, [TLS_HANDSHAKE] | [TLS_HANDSHAKE, TLS_MAJOR, ..])
}

/// Opens mTLS on `stream` with `credentials`, requiring the server to prove
/// `server_identity`: its chain must end at the trust roots and its leaf
/// must be valid for that name. Either failing is an error naming the
/// expected identity and the peer.
pub async fn connect(
    stream: TcpStream,
    credentials: &Credentials,
    server_identity: &str,
) -> Result<TlsStream<TcpStream>, TlsError> {
    handshake(stream, credentials.client_config(), server_identity).await
}

/// [`connect`] offering [`crate::MESH_ALPN`], to a peer proxy's inbound
/// port: the caller then writes a transport header naming the port the
/// connection is for. A server that did not negotiate the protocol would
/// take the header for the connection's payload, so that is an error.
pub async fn connect_transport(
    stream: TcpStream,
    credentials: &Credentials,
    server_identity: &str,
) -> Result<TlsStream<TcpStream>, TlsError> {
    let peer = peer_name(&stream);
    let tls = handshake(
        stream,
        credentials.transport_client_config(),
        server_identity,
    )
    .await?;
    if tls.get_ref().1.alpn_protocol() != Some(crate::MESH_ALPN) {
        return Err(TlsError::Handshake {
            peer,
            expected: Some(server_identity.to_string()),
            error: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the server did not negotiate the transport protocol (transport.l5d.io/v1)",
            ),
        });
    }
    Ok(tls)
}

fn peer_name(stream: &TcpStream) -> String {
    stream
        .peer_addr()
        .map(|addr| addr.to_string())
        .unwrap_or_else(|_| "an unknown peer".to_string())
}

async fn handshake(
    stream: TcpStream,
    config: std::sync::Arc<rustls::ClientConfig>,
    server_identity: &str,
) -> Result<TlsStream<TcpStream>, TlsError> {
    let name = ServerName::try_from(server_identity.to_string()).map_err(|e| {
        TlsError::InvalidIdentity {
            name: server_identity.to_string(),
            reason: IdentityNameProblem::NotDnsName(e),
        }
    })?;
    let peer = peer_name(&stream);
    TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(|error| TlsError::Handshake {
            peer,
            expected: Some(server_identity.to_string()),
            error,
        })
}

/// The identity a peer's certificate chain proves: the first DNS SAN of
/// its leaf (the first certificate). `None` if there is no certificate, it
/// does not parse, or it has no DNS SAN. Only meaningful for chains rustls
/// has already verified.
pub fn peer_identity(certs: &[CertificateDer<'_>]) -> Option<String> {
    let leaf = certs.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).ok()?;
    first_dns_san(&cert)
}

#[cfg(test)]
mod tests;
