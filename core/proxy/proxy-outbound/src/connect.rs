//! How the proxy opens a connection to one endpoint.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// What the proxy may assume about an endpoint's protocol, as discovery
/// hints it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Hint {
    /// Nothing is known: the endpoint may be any server.
    #[default]
    Unknown,
    /// The endpoint runs a proxy that accepts HTTP/2 from proxies.
    H2,
}

/// One endpoint as discovery describes it: everything a connector needs to
/// reach it and everything the metrics need to name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointTarget {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The identity the endpoint must prove with mTLS; `None` when it is
    /// not meshed, so the connection is plaintext.
    pub identity: Option<String>,
    /// The authority to send instead of the request's, when the endpoint is
    /// a gateway that routes by authority.
    pub authority_override: Option<String>,
    /// The endpoint's protocol hint.
    pub protocol_hint: Hint,
    /// The port of the endpoint's proxy that opaque connections go to,
    /// behind a transport header naming `addr`'s port (Linkerd's opaque
    /// transport): set by discovery for a meshed endpoint of an opaque
    /// port, whose proxy does not look for TLS on the port itself.
    pub opaque_transport: Option<u16>,
    /// The endpoint's metric labels (the set's and its own), unprefixed:
    /// `pod`, `namespace`, `service`, ...
    pub labels: BTreeMap<String, String>,
}

impl EndpointTarget {
    /// An endpoint known only by its address: plaintext, no hint, no
    /// labels, as discovery describes an address that is not a Service.
    pub fn new(addr: SocketAddr) -> Self {
        EndpointTarget {
            addr,
            identity: None,
            authority_override: None,
            protocol_hint: Hint::Unknown,
            opaque_transport: None,
            labels: BTreeMap::new(),
        }
    }
}

/// Opens connections to endpoints. The proxy supplies one that does mTLS
/// when the endpoint has an identity; tests and unmeshed endpoints use
/// [`PlainConnect`].
pub trait Connect: Clone + Send + Sync + 'static {
    /// The connection.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Connects to `endpoint`, verifying `endpoint.identity` when there is
    /// one.
    fn connect(
        &self,
        endpoint: &EndpointTarget,
    ) -> impl Future<Output = io::Result<Self::Io>> + Send;

    /// Connects to `endpoint` for an opaque connection: a connector that
    /// speaks the mesh's opaque transport goes to the endpoint's
    /// `opaque_transport` port instead and writes the transport header
    /// first, so the connection it returns carries only the client's bytes.
    /// By default the same as [`Connect::connect`].
    fn connect_opaque(
        &self,
        endpoint: &EndpointTarget,
    ) -> impl Future<Output = io::Result<Self::Io>> + Send {
        self.connect(endpoint)
    }
}

/// Plain TCP, ignoring the identity: for tests and for endpoints that are
/// not meshed.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainConnect;

impl Connect for PlainConnect {
    type Io = TcpStream;

    async fn connect(&self, endpoint: &EndpointTarget) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(endpoint.addr).await?;
        // Requests are small and latency matters more than packet count.
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}
