//! TLS for the control plane's gRPC, on both ends.
//!
//! Linkerd's proxies reach the identity service over TLS (they hold no
//! certificate yet, so only the server proves who it is) and destination
//! and policy over mTLS; each server is verified against the trust anchors
//! alone, by the identity its `*_SVC_NAME` names. Whoever can spoof or
//! intercept a control-plane address therefore gets nothing: not a token,
//! not a proxy's attention, and no plugin or policy of theirs runs.
//!
//! Both ends speak TLS 1.3 and HTTP/2 (ALPN `h2`), as gRPC needs. Plaintext
//! remains only for a control plane on loopback ([`is_loopback_addr`]),
//! where no one but the host itself can be on the path.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::certify::wait_for_credentials;
use crate::conn::MaybeTls;
use crate::credentials::{Credentials, PROTOCOL_VERSIONS};
use crate::error::{ConfigProblem, IdentityNameProblem, TlsError};
use crate::roots::TrustRoots;

/// The ALPN protocol both ends insist on: gRPC is HTTP/2.
pub const GRPC_ALPN: &[u8] = b"h2";

/// How long a control-plane client waits for a connection (TCP and TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The client of a control-plane TLS connection: its address, and the
/// identity its certificate proved against the trust anchors, if it showed
/// one. The server puts it on every request of the connection (tonic's
/// connect info), so a service can check who asks; a request without it
/// came over plaintext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPeer {
    /// Where the connection came from.
    pub remote: SocketAddr,
    /// The verified client identity; none for a client without a
    /// certificate.
    pub identity: Option<String>,
}

/// Which clients a control-plane server accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// Anyone; only the server proves who it is (the identity service,
    /// whose clients have no certificate yet and prove themselves with a
    /// token instead).
    None,
    /// Only clients with a certificate that chains to the trust anchors
    /// (destination and policy).
    Required,
}

/// The server configuration a control-plane server presents: the chain of
/// `credentials`, TLS 1.3 and `h2` only, and clients checked as `clients`
/// says.
pub fn server_config(
    credentials: &Credentials,
    clients: ClientAuth,
) -> Result<Arc<ServerConfig>, TlsError> {
    let err = |error| TlsError::Config {
        what: "control-plane server",
        identity: credentials.identity().to_string(),
        error,
    };
    let provider = crate::crypto_provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|e| err(ConfigProblem::Rustls(e)))?;
    let builder = match clients {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Required => {
            let verifier = WebPkiClientVerifier::builder_with_provider(
                credentials.roots().root_store(),
                provider,
            )
            .build()
            .map_err(|e| err(ConfigProblem::Verifier(e)))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(
            credentials.certificate_chain().to_vec(),
            credentials.private_key(),
        )
        .map_err(|e| err(ConfigProblem::Rustls(e)))?;
    config.alpn_protocols = vec![GRPC_ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// The client configuration for reaching a control-plane server: only the
/// trust anchors are trusted, TLS 1.3 and `h2` only, and `credentials`
/// presented when given.
pub fn client_config(
    roots: &TrustRoots,
    credentials: Option<&Credentials>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let identity = credentials.map_or("an unidentified client", |c| c.identity());
    let err = |e| TlsError::Config {
        what: "control-plane client",
        identity: identity.to_string(),
        error: ConfigProblem::Rustls(e),
    };
    let builder = ClientConfig::builder_with_provider(crate::crypto_provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(err)?
        .with_root_certificates(roots.root_store());
    let mut config = match credentials {
        None => builder.with_no_client_auth(),
        Some(credentials) => builder
            .with_client_auth_cert(
                credentials.certificate_chain().to_vec(),
                credentials.private_key(),
            )
            .map_err(err)?,
    };
    config.alpn_protocols = vec![GRPC_ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// Whether `addr` (`host:port`) is on loopback: an IP literal in
/// 127.0.0.0/8 or `::1`, or `localhost`. Only there may a control plane be
/// reached in plaintext.
pub fn is_loopback_addr(addr: &str) -> bool {
    if let Ok(socket) = addr.parse::<SocketAddr>() {
        return socket.ip().is_loopback();
    }
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost."),
    }
}

/// How a client reaches one control-plane service.
#[derive(Clone)]
pub enum ControlTls {
    /// Plaintext: only for a server on loopback.
    Plaintext,
    /// TLS, the server proving `server` against `roots`; the client
    /// presents the current certificate of `client` when given, waiting
    /// for the first one (a proxy asks destination and policy only once
    /// it is certified).
    Tls {
        /// The identity the server must prove (`LINKERD2_PROXY_*_SVC_NAME`).
        server: String,
        /// The trust anchors.
        roots: TrustRoots,
        /// The client's credentials, if it presents any.
        client: Option<watch::Receiver<Option<Arc<Credentials>>>>,
    },
}

impl std::fmt::Debug for ControlTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlTls::Plaintext => f.write_str("Plaintext"),
            ControlTls::Tls { server, client, .. } => f
                .debug_struct("Tls")
                .field("server", server)
                .field("mutual", &client.is_some())
                .finish_non_exhaustive(),
        }
    }
}

/// Why a control-plane channel could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ControlChannelError {
    /// The address is not a `host:port` URI authority.
    #[error("{what} address {addr:?}: {reason}")]
    Address {
        /// Which service.
        what: &'static str,
        /// The address given.
        addr: String,
        /// What is wrong.
        reason: String,
    },
    /// Plaintext asked for an address that is not loopback.
    #[error(
        "{what} address {addr:?} is not on loopback: the control plane is reached over TLS there; give the identity its server proves"
    )]
    PlaintextOffLoopback {
        /// Which service.
        what: &'static str,
        /// The address given.
        addr: String,
    },
    /// The server identity is no DNS name.
    #[error("{what} server identity: {source}")]
    ServerName {
        /// Which service.
        what: &'static str,
        /// Why.
        #[source]
        source: Box<TlsError>,
    },
}

/// A lazily connecting gRPC channel to the control-plane service `what` at
/// `addr`, speaking as `tls` says; connections are made (and re-made after
/// a failure) on use, so a control plane that is not up yet only delays.
/// Plaintext off loopback is refused here, before anything is sent.
pub fn channel(
    what: &'static str,
    addr: &str,
    tls: ControlTls,
) -> Result<Channel, ControlChannelError> {
    if matches!(tls, ControlTls::Plaintext) && !is_loopback_addr(addr) {
        return Err(ControlChannelError::PlaintextOffLoopback {
            what,
            addr: addr.to_string(),
        });
    }
    let server = match &tls {
        ControlTls::Plaintext => None,
        ControlTls::Tls { server, .. } => Some(
            ServerName::try_from(server.clone())
                .map_err(|e| ControlChannelError::ServerName {
                    what,
                    source: Box::new(TlsError::InvalidIdentity {
                        name: server.clone(),
                        reason: IdentityNameProblem::NotDnsName(e),
                    }),
                })?
                .to_owned(),
        ),
    };
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| ControlChannelError::Address {
            what,
            addr: addr.to_string(),
            reason: e.to_string(),
        })?
        .connect_timeout(CONNECT_TIMEOUT);
    let connector = Connector {
        what,
        addr: Arc::from(addr),
        tls: Arc::new(tls),
        server,
    };
    Ok(endpoint.connect_with_connector_lazy(connector))
}

/// Opens the connections of a control-plane channel: TCP to the address
/// (resolved on each connection, as Services' addresses may move), then
/// TLS as configured.
#[derive(Clone)]
struct Connector {
    what: &'static str,
    addr: Arc<str>,
    tls: Arc<ControlTls>,
    server: Option<ServerName<'static>>,
}

/// A control-plane connection: TLS, or plaintext on loopback.
type ControlIo = MaybeTls<tokio_rustls::client::TlsStream<TcpStream>>;

type Connecting =
    Pin<Box<dyn Future<Output = Result<TokioIo<ControlIo>, std::io::Error>> + Send + 'static>>;

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<ControlIo>;
    type Error = std::io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            // A client that presents a certificate has none before it is
            // certified; it waits for one rather than connecting without.
            let credentials = match &*this.tls {
                ControlTls::Tls {
                    client: Some(client),
                    ..
                } => Some(wait_for_credentials(&mut client.clone()).await),
                _ => None,
            };
            let connecting = this.connect(credentials.as_deref());
            tokio::time::timeout(CONNECT_TIMEOUT, connecting)
                .await
                .map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("connecting to {} at {} timed out", this.what, this.addr),
                    )
                })?
                .map(TokioIo::new)
        })
    }
}

impl Connector {
    async fn connect(
        &self,
        credentials: Option<&Credentials>,
    ) -> Result<ControlIo, std::io::Error> {
        let (ControlTls::Tls { roots, .. }, Some(server)) = (&*self.tls, &self.server) else {
            let tcp = TcpStream::connect(&*self.addr).await?;
            tcp.set_nodelay(true)?;
            return Ok(MaybeTls::Plain(tcp));
        };
        let config = client_config(roots, credentials).map_err(std::io::Error::other)?;
        let tcp = TcpStream::connect(&*self.addr).await?;
        tcp.set_nodelay(true)?;
        let tls = TlsConnector::from(config)
            .connect(server.clone(), tcp)
            .await
            .map_err(|error| {
                tracing::warn!(
                    service = self.what,
                    addr = %self.addr,
                    server = ?server,
                    %error,
                    "the control-plane server did not prove its identity; not using it"
                );
                error
            })?;
        if tls.get_ref().1.alpn_protocol() != Some(GRPC_ALPN) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} at {} did not agree on HTTP/2 (ALPN h2)",
                    self.what, self.addr
                ),
            ));
        }
        Ok(MaybeTls::Tls(Box::new(tls)))
    }
}

#[cfg(test)]
mod tests;
