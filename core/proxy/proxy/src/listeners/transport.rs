//! Connections that open with Linkerd's transport header: a peer proxy
//! sends opaque traffic for one of this pod's ports to the inbound port
//! instead (the pod's own port is not looked at for TLS when it is
//! opaque), names the port in the header, and negotiates
//! `transport.l5d.io/v1` to say a header follows.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use strait_io::{HeaderError, TransportHeader};
use tokio::io::AsyncRead;

/// How long a client that negotiated the transport protocol may take to
/// send its header; its handshake is done, so a header is all that is
/// missing.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection that negotiated the transport protocol is closed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// Only a meshed client may say which port it is for: the header
    /// reaches ports iptables would otherwise keep it from.
    #[error("a transport header from a client without a mesh identity")]
    NoIdentity,
    /// The header did not arrive in time.
    #[error("no transport header within {0:?}")]
    Timeout(Duration),
    /// The header did not parse.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A name asks for gateway forwarding, which a pod's proxy does not do.
    #[error("the transport header names {0:?} for gateway forwarding, which is not served here")]
    Name(String),
}

/// The address a connection that negotiated the transport protocol is
/// for: `local_ip` (the pod's address the client reached) at the port its
/// header names. Reads exactly the header from `io`, so the rest is the
/// client's payload; the session protocol is ignored, since the port's
/// policy decides how the connection is served.
pub(crate) async fn header_target<R: AsyncRead + Unpin>(
    io: &mut R,
    client_identity: Option<&str>,
    local_ip: IpAddr,
    timeout: Duration,
) -> Result<SocketAddr, Refused> {
    if client_identity.is_none() {
        return Err(Refused::NoIdentity);
    }
    let header = tokio::time::timeout(timeout, TransportHeader::read(io))
        .await
        .map_err(|_| Refused::Timeout(timeout))??;
    if let Some(name) = header.name {
        return Err(Refused::Name(name));
    }
    Ok(SocketAddr::new(local_ip, header.port.get()))
}

#[cfg(test)]
mod tests;
