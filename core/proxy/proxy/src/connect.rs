//! Outbound connections to endpoints: mTLS verifying the identity discovery
//! gave, plaintext to endpoints that have none, and Linkerd's opaque
//! transport (the endpoint's proxy's inbound port, behind a transport
//! header) for opaque connections when discovery asks for it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU16;
use std::sync::Arc;

use strait_io::TransportHeader;
use strait_proxy_outbound::{Connect, EndpointTarget};
use strait_tls::{Credentials, MaybeTls, TlsStream};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

/// Connects to endpoints as a meshed client: every endpoint that discovery
/// names an identity for is reached over mTLS, and its certificate must
/// name exactly that identity and chain to the trust anchors; endpoints
/// without one (unmeshed pods) get plaintext rather than a handshake they
/// cannot answer.
#[derive(Clone, Debug)]
pub struct MeshConnect {
    credentials: watch::Receiver<Option<Arc<Credentials>>>,
    source_ip: Option<IpAddr>,
}

impl MeshConnect {
    /// Connects with whatever credentials `credentials` holds at the time,
    /// from `source_ip` when given (see [`crate::ProxyConfig::source_ip`]).
    pub fn new(
        credentials: watch::Receiver<Option<Arc<Credentials>>>,
        source_ip: Option<IpAddr>,
    ) -> Self {
        MeshConnect {
            credentials,
            source_ip,
        }
    }

    /// The current credentials, or an error naming the endpoint: mTLS to
    /// it needs a certificate.
    fn credentials(
        &self,
        endpoint: &EndpointTarget,
        identity: &str,
    ) -> io::Result<Arc<Credentials>> {
        self.credentials.borrow().clone().ok_or_else(|| {
            io::Error::other(format!(
                "cannot connect to {} ({identity}) over mTLS: this proxy has no certificate yet",
                endpoint.addr
            ))
        })
    }

    async fn tcp(&self, to: SocketAddr) -> io::Result<TcpStream> {
        let Some(source) = self.source_ip else {
            return TcpStream::connect(to).await;
        };
        let socket = if to.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.bind(SocketAddr::new(source, 0))?;
        socket.connect(to).await
    }
}

/// A connection to an endpoint, plaintext or TLS.
pub type MeshIo = MaybeTls<TlsStream<TcpStream>>;

impl Connect for MeshConnect {
    type Io = MeshIo;

    async fn connect(&self, endpoint: &EndpointTarget) -> io::Result<MeshIo> {
        let tcp = self.tcp(endpoint.addr).await?;
        tcp.set_nodelay(true)?;
        let Some(identity) = &endpoint.identity else {
            return Ok(MaybeTls::Plain(tcp));
        };
        let credentials = self.credentials(endpoint, identity)?;
        let tls = strait_tls::connect(tcp, &credentials, identity)
            .await
            .map_err(io::Error::other)?;
        Ok(MaybeTls::Tls(Box::new(tls)))
    }

    /// For a meshed endpoint that discovery gives an opaque transport port:
    /// connects to that port of the endpoint's address (its proxy's inbound
    /// port, which the pod's iptables rules leave to the proxy), with mTLS
    /// offering Linkerd's transport protocol, and writes the transport
    /// header naming the endpoint's port. The server proxy then serves the
    /// rest as a connection to that port. Other endpoints are connected to
    /// as for HTTP.
    async fn connect_opaque(&self, endpoint: &EndpointTarget) -> io::Result<MeshIo> {
        let (Some(inbound_port), Some(identity)) = (endpoint.opaque_transport, &endpoint.identity)
        else {
            return self.connect(endpoint).await;
        };
        let port = NonZeroU16::new(endpoint.addr.port()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "endpoint {} has port 0: no transport header can name it",
                    endpoint.addr
                ),
            )
        })?;
        let tcp = self
            .tcp(SocketAddr::new(endpoint.addr.ip(), inbound_port))
            .await?;
        tcp.set_nodelay(true)?;
        let credentials = self.credentials(endpoint, identity)?;
        let mut tls = strait_tls::connect_transport(tcp, &credentials, identity)
            .await
            .map_err(io::Error::other)?;
        TransportHeader::opaque(port).write(&mut tls).await?;
        Ok(MaybeTls::Tls(Box::new(tls)))
    }
}
