//! Linkerd's transport header: what a client proxy writes first on a
//! connection to a server proxy's inbound port, so the server knows which
//! of its pod's ports the rest of the connection is for.
//!
//! Opaque traffic cannot be sent to the application's port itself: the
//! server proxy does not look for TLS on a port declared opaque, so the
//! client sends it to the proxy's own inbound port instead, over mTLS
//! negotiating `transport.l5d.io/v1`, and names the real port here. Both
//! directions of the proxy use this one codec, so what strait writes is
//! what strait reads, and both match Linkerd's proxies.
//!
//! On the wire: the preface `transport.l5d.io/v1\r\n\r\n`, the length of
//! the message as a big-endian `u32`, then the protobuf message
//! `transport.l5d.io.Header { int32 port = 1; string name = 2;
//! SessionProtocol session_protocol = 3; }`. The message is encoded and
//! parsed by hand (a few varints and length-delimited fields) rather than
//! by generated code: it is small, fixed, and read from untrusted peers, so
//! every bound is visible here.

use std::num::NonZeroU16;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

mod wire;

pub use wire::DecodeError;

/// The bytes every header starts with.
pub const PREFACE: &[u8] = b"transport.l5d.io/v1\r\n\r\n";

/// The longest message (after the preface and length) a reader accepts. A
/// header holds a port, perhaps a host name and an empty session protocol:
/// far less than this. The bound keeps a client from making the proxy
/// allocate whatever length it claims.
pub const MAX_MESSAGE_LEN: usize = 1024;

/// The protocol the client says the connection carries, when it knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionProtocol {
    /// HTTP/1.x.
    Http1,
    /// HTTP/2.
    Http2,
}

/// One transport header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportHeader {
    /// The port of the server's pod the connection is for.
    pub port: NonZeroU16,
    /// A host name for a gateway to forward to; `None` for a pod's port.
    pub name: Option<String>,
    /// The session protocol, when the client knows it; `None` is opaque.
    pub session_protocol: Option<SessionProtocol>,
}

/// Why a header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// The connection failed while the header was read.
    #[error("reading the transport header: {0}")]
    Io(#[source] std::io::Error),
    /// The connection ended before the header did.
    #[error("the connection ended inside the transport header's {0}")]
    Truncated(&'static str),
    /// The first bytes are not the preface.
    #[error("the connection does not start with the transport header's preface")]
    Preface,
    /// The length is over [`MAX_MESSAGE_LEN`].
    #[error("the transport header's length {len} is over the bound of {MAX_MESSAGE_LEN} bytes")]
    TooLong {
        /// The length the client sent.
        len: u32,
    },
    /// The message does not parse.
    #[error("the transport header's message: {0}")]
    Message(#[from] DecodeError),
}

impl TransportHeader {
    /// A header for `port`, with no name and no session protocol: what a
    /// client proxy sends for an opaque connection to a pod's port.
    pub fn opaque(port: NonZeroU16) -> Self {
        TransportHeader {
            port,
            name: None,
            session_protocol: None,
        }
    }

    /// The header as written: preface, length and message.
    pub fn encode(&self) -> Bytes {
        let message = wire::encode(self);
        let mut out = BytesMut::with_capacity(PREFACE.len() + 4 + message.len());
        out.put_slice(PREFACE);
        // The message holds a port and at most a host name: its length
        // fits a u32 by far; saturating keeps this total regardless.
        out.put_u32(u32::try_from(message.len()).unwrap_or(u32::MAX));
        out.put_slice(&message);
        out.freeze()
    }

    /// Writes the header to `io` and flushes it, so the server can read
    /// it before the client sends anything else.
    pub async fn write<W: AsyncWrite + Unpin>(&self, io: &mut W) -> std::io::Result<()> {
        io.write_all(&self.encode()).await?;
        io.flush().await
    }

    /// Reads one header from `io`, consuming exactly its bytes: whatever
    /// follows is the connection's payload, left unread. Callers bound the
    /// time it may take; the size is bounded here.
    pub async fn read<R: AsyncRead + Unpin>(io: &mut R) -> Result<TransportHeader, HeaderError> {
        let mut preface = [0u8; PREFACE.len()];
        read_exact(io, &mut preface, "preface").await?;
        if preface != PREFACE {
            return Err(HeaderError::Preface);
        }
        let mut len = [0u8; 4];
        read_exact(io, &mut len, "length").await?;
        let len = u32::from_be_bytes(len);
        let size = usize::try_from(len)
            .ok()
            .filter(|size| *size <= MAX_MESSAGE_LEN)
            .ok_or(HeaderError::TooLong { len })?;
        let mut message = vec![0u8; size];
        read_exact(io, &mut message, "message").await?;
        Ok(wire::decode(&message)?)
    }
}

async fn read_exact<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut [u8],
    part: &'static str,
) -> Result<(), HeaderError> {
    match io.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(HeaderError::Truncated(part))
        }
        Err(e) => Err(HeaderError::Io(e)),
    }
}

#[cfg(test)]
mod tests;
