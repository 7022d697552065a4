//! The address a redirected connection was meant for.

use std::net::SocketAddr;

use socket2::SockRef;
use tokio::net::TcpStream;

/// The destination the client dialled before iptables redirected the
/// connection to the proxy (`SO_ORIGINAL_DST`); `None` when the connection
/// was not redirected (the client dialled the proxy itself), so the caller
/// falls back to what the protocol says (the HTTP authority).
pub fn original_dst(stream: &TcpStream) -> Option<SocketAddr> {
    let socket = SockRef::from(stream);
    let local = stream.local_addr().ok()?;
    let original = if local.is_ipv4() {
        socket.original_dst_v4()
    } else {
        socket.original_dst_v6()
    };
    let original = original.ok()?.as_socket()?;
    // Without a redirect the kernel may report the socket's own address.
    (original != local).then_some(original)
}

#[cfg(test)]
mod tests;
