//! Connection wrappers both sides of the proxy use.
//!
//! - [`PrefixedIo`]: a connection whose first bytes were already read (to
//!   detect its protocol) reads them again before the rest, so the server
//!   that then takes the connection sees it from its first byte.
//! - [`CountedIo`]: a connection that reports the bytes read from and
//!   written to it as they pass, so the `tcp_read_bytes_total` and
//!   `tcp_write_bytes_total` metrics count what a connection carried even
//!   when it ends in an error.
//!
//! Both pass every other call (writes, vectored writes, flush, shutdown)
//! through to the connection they wrap, so wrapping changes nothing the
//! peer can see.

mod counted;
mod prefixed;

pub use counted::CountedIo;
pub use prefixed::PrefixedIo;

#[cfg(test)]
mod test_io;
