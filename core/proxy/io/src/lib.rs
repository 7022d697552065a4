//! Connection wrappers both sides of the proxy use.
//!
//! - [`PrefixedIo`]: a connection whose first bytes were already read (to
//!   detect its protocol) reads them again before the rest, so the server
//!   that then takes the connection sees it from its first byte.
//! - [`CountedIo`]: a connection that reports the bytes read from and
//!   written to it as they pass, so the `tcp_read_bytes_total` and
//!   `tcp_write_bytes_total` metrics count what a connection carried even
//!   when it ends in an error.
//! - [`transport_header`]: Linkerd's transport header, which a client
//!   proxy writes first on an opaque connection to a server proxy's
//!   inbound port, naming the port it is for; written by the outbound
//!   side and read by the inbound side.
//!
//! Both pass every other call (writes, vectored writes, flush, shutdown)
//! through to the connection they wrap, so wrapping changes nothing the
//! peer can see.

mod counted;
mod prefixed;
pub mod transport_header;

pub use counted::CountedIo;
pub use prefixed::PrefixedIo;
pub use transport_header::{HeaderError, TransportHeader};

#[cfg(test)]
mod test_io;
