//! Forwarding opaque TCP to one endpoint of the original destination.

use std::io;
use std::net::SocketAddr;

use strait_io::CountedIo;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::connect::Connect;
use crate::outbound::Shared;

/// Forwards `client` to an endpoint of `orig_dst` (a Service's ClusterIP
/// resolves to its endpoints; any other address to itself) until both
/// sides are done. A second endpoint is tried when the first cannot be
/// reached: nothing was sent yet.
pub(crate) async fn forward<C, I>(shared: &Shared<C>, mut client: I, orig_dst: SocketAddr)
where
    C: Connect,
    I: AsyncRead + AsyncWrite + Unpin,
{
    let authority = orig_dst.to_string();
    let entry = shared.entry(&authority);
    if let Err(unavailable) = shared.ready(&authority, &entry).await {
        tracing::info!(%unavailable, "closing an opaque connection");
        return;
    }
    let mut exclude = None;
    let mut attempt = 0;
    let (endpoint, in_flight, server) = loop {
        attempt += 1;
        let Some(endpoint) = entry.balancer.pick(exclude) else {
            tracing::info!(%authority, "closing an opaque connection: no endpoint left to try");
            return;
        };
        let in_flight = endpoint.start();
        let connected = tokio::time::timeout(
            shared.config.connect_timeout,
            shared.connect.connect(&endpoint.target),
        )
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")));
        match connected {
            Ok(server) => break (endpoint, in_flight, server),
            Err(error) if attempt < 2 => {
                tracing::debug!(target = %endpoint.target.addr, %error, "connect failed; trying another endpoint");
                exclude = Some(endpoint.target.addr);
            }
            Err(error) => {
                tracing::info!(target = %endpoint.target.addr, %error, "closing an opaque connection: connect failed");
                return;
            }
        }
    };
    in_flight.answered();

    // The endpoint's request series hold its TCP series too.
    let lease = endpoint.extra.series.lease();
    let metrics = &shared.metrics;
    lease.metric(&metrics.tcp_open_total).inc();
    let open = lease.metric(&metrics.tcp_open_connections);
    open.inc();
    let read = lease.metric(&metrics.tcp_read_bytes_total);
    let written = lease.metric(&metrics.tcp_write_bytes_total);
    let mut server = CountedIo::new(
        server,
        move |n| {
            read.inc_by(n);
        },
        move |n| {
            written.inc_by(n);
        },
    );
    let copied = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    drop(in_flight);
    open.dec();
    match copied {
        Ok(_) => {
            lease.metric(&metrics.tcp_close_total).inc();
        }
        Err(error) => {
            tracing::debug!(%error, "opaque connection failed");
            let errno = vec![("errno".to_string(), errno(&error))];
            lease.metric_with(&metrics.tcp_close_total, errno).inc();
        }
    }
}

/// The name of an I/O error as `errno` labels spell it.
fn errno(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionReset => "ECONNRESET".to_string(),
        io::ErrorKind::ConnectionAborted => "ECONNABORTED".to_string(),
        io::ErrorKind::BrokenPipe => "EPIPE".to_string(),
        io::ErrorKind::TimedOut => "ETIMEDOUT".to_string(),
        io::ErrorKind::ConnectionRefused => "ECONNREFUSED".to_string(),
        _ => match error.raw_os_error() {
            Some(code) => code.to_string(),
            None => "EIO".to_string(),
        },
    }
}
