//! Opaque TCP: authorized once per connection with the server's
//! candidates, and again on every policy change while it is open; copied
//! both ways to the application while admitted.

use std::sync::Arc;

use strait_decisions::authz::{Decision, Inbound as AuthzRequest, ResourceRef};
use strait_proxy_metrics::Labels;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, info};

use super::metrics::connection_labels;
use super::{Connection, Shared};
use crate::policy::PortPolicy;

/// The connection-level decision under `policy`.
fn authorize(shared: &Shared, connection: &Connection, policy: &PortPolicy) -> Decision {
    let request = AuthzRequest {
        client_tls: connection.client.tls.clone(),
        client_ip: connection.client.addr.ip(),
        server: policy.server.clone(),
        port: connection.target.port(),
        protocol: policy.protocol,
        route: None,
        http: None,
    };
    shared
        .authz
        .authorize(request, &policy.server_authorizations)
        .decision
}

/// Serves `io` as opaque TCP until either side closes it or the policy no
/// longer admits it.
pub(super) async fn serve<I>(
    shared: &Shared,
    mut io: I,
    connection: &Connection,
    mut policies: watch::Receiver<Arc<PortPolicy>>,
) where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let metrics = &shared.metrics;
    let policy = policies.borrow_and_update().clone();
    // Held with the connection, as its other series are.
    let lease = metrics.lease(connection_labels(connection, &policy.server).build());
    match authorize(shared, connection, &policy) {
        Decision::Allow(authz) => {
            let extra = Labels::new().with_resource("authz", &authz).build();
            lease
                .metric_with(&metrics.inbound_tcp_authz_allow_total, extra)
                .inc();
        }
        Decision::Deny(reason) => {
            lease.metric(&metrics.inbound_tcp_authz_deny_total).inc();
            debug!(client = %connection.client.addr, server = %policy.server, %reason, "connection refused");
            return;
        }
    }

    let Some(app) = connection.app else {
        debug!(
            port = connection.target.port(),
            "no application address for this port"
        );
        return;
    };
    let mut upstream =
        match tokio::time::timeout(shared.config.connect_timeout, TcpStream::connect(app)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                debug!(%app, error = %e, "the application is unreachable");
                return;
            }
            Err(_) => {
                debug!(%app, "connecting to the application timed out");
                return;
            }
        };
    let _ = upstream.set_nodelay(true);

    tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut io, &mut upstream) => {
            if let Err(e) = copied {
                debug!(error = %e, "opaque connection ended with an error");
            }
        }
        server = revoked(shared, connection, &mut policies) => {
            lease.metric(&metrics.inbound_tcp_authz_terminate_total).inc();
            info!(client = %connection.client.addr, %server, "closing a connection the policy no longer admits");
        }
    }
}

/// Waits until a policy change no longer admits the connection; returns
/// the server of the policy that refused it. If the watcher goes away the
/// last policy stands.
async fn revoked(
    shared: &Shared,
    connection: &Connection,
    policies: &mut watch::Receiver<Arc<PortPolicy>>,
) -> ResourceRef {
    loop {
        if policies.changed().await.is_err() {
            return std::future::pending().await;
        }
        let policy = policies.borrow_and_update().clone();
        if let Decision::Deny(_) = authorize(shared, connection, &policy) {
            return policy.server.clone();
        }
    }
}
