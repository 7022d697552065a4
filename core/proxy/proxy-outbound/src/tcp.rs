//! Forwarding opaque TCP to one endpoint of the original destination, and
//! the TCP series of connections to endpoints.

use std::io;
use std::net::SocketAddr;

use prometheus_client::metrics::gauge::Gauge;
use strait_io::CountedIo;
use strait_proxy_metrics::{ProxyMetrics, SeriesLease};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::connect::Connect;
use crate::outbound::Shared;

/// Forwards `client` to an endpoint of `orig_dst` (a Service's ClusterIP
/// resolves to its endpoints; any other address to itself) until both
/// sides are done. A second endpoint is tried when the first cannot be
/// reached: nothing was sent yet. A meshed endpoint of an opaque port is
/// reached through its proxy's inbound port behind a transport header
/// ([`Connect::connect_opaque`]); HTTP never comes here.
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
            shared.connect.connect_opaque(&endpoint.target),
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
    let connection = OpenConnection::new(&shared.metrics, endpoint.extra.series.lease());
    let mut server = connection.counting(server);
    let copied = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    drop(in_flight);
    if let Err(error) = copied {
        tracing::debug!(%error, "opaque connection failed");
        connection.failed(&error);
    }
}

/// `io`, a connection to an endpoint that hyper will own (the one an
/// upgrade takes over), counted in the endpoint's TCP series (`lease`)
/// from now until it is dropped, wherever that happens.
pub(crate) fn counted_until_dropped<I>(
    metrics: &ProxyMetrics,
    lease: &SeriesLease,
    io: I,
) -> impl AsyncRead + AsyncWrite + Unpin + Send + 'static
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = OpenConnection::new(metrics, lease);
    let read = lease.metric(&metrics.tcp_read_bytes_total);
    let written = lease.metric(&metrics.tcp_write_bytes_total);
    CountedIo::new(
        io,
        move |n| {
            // Held by the connection, so closed with it.
            let _open = &connection;
            read.inc_by(n);
        },
        move |n| {
            written.inc_by(n);
        },
    )
}

/// One connection to an endpoint in the endpoint's TCP series: counted
/// as opened when made, and as closed when dropped, with the `errno` of
/// the error it [`failed`](OpenConnection::failed) with, if any.
struct OpenConnection {
    metrics: ProxyMetrics,
    lease: SeriesLease,
    open: Gauge,
    errno: Option<String>,
}

impl OpenConnection {
    fn new(metrics: &ProxyMetrics, lease: &SeriesLease) -> Self {
        lease.metric(&metrics.tcp_open_total).inc();
        let open = lease.metric(&metrics.tcp_open_connections);
        open.inc();
        OpenConnection {
            metrics: metrics.clone(),
            lease: lease.clone(),
            open,
            errno: None,
        }
    }

    /// `io` with its bytes counted.
    fn counting<I>(
        &self,
        io: I,
    ) -> CountedIo<I, impl Fn(u64) + Unpin + use<I>, impl Fn(u64) + Unpin + use<I>> {
        let read = self.lease.metric(&self.metrics.tcp_read_bytes_total);
        let written = self.lease.metric(&self.metrics.tcp_write_bytes_total);
        CountedIo::new(
            io,
            move |n| {
                read.inc_by(n);
            },
            move |n| {
                written.inc_by(n);
            },
        )
    }

    /// Closes the connection as failed with `error`.
    fn failed(mut self, error: &io::Error) {
        self.errno = Some(errno(error));
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.open.dec();
        let close = &self.metrics.tcp_close_total;
        match self.errno.take() {
            Some(errno) => self
                .lease
                .metric_with(close, vec![("errno".to_string(), errno)])
                .inc(),
            None => self.lease.metric(close).inc(),
        };
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
