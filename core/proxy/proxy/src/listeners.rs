//! Accept loops: each accepted connection gets its own task, so one slow
//! client never holds up another.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use strait_decisions::authz::ClientTls;
use strait_proxy_inbound::{ClientInfo, Inbound};
use strait_proxy_metrics::{ProxyMetrics, Refusal};
use strait_proxy_outbound::Outbound;
use strait_tls::{Accepted, Credentials, TlsStatus, accept};
use tokio::net::{TcpListener, TcpStream};

use crate::CredentialsRx;
use crate::connect::MeshConnect;
use crate::orig_dst::original_dst;

mod transport;

/// How long an accepted connection may wait for the proxy's first
/// certificate before it is closed: without one no TLS can be terminated.
const CREDENTIALS_WAIT: Duration = Duration::from_secs(10);
/// How long a TLS handshake may take once detected.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A pause after a failed `accept` (out of file descriptors, say), so the
/// loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What terminating TLS on accepted connections needs.
#[derive(Clone, Debug)]
pub(crate) struct Accepting {
    pub(crate) credentials: CredentialsRx,
    pub(crate) detect_timeout: Duration,
}

impl Accepting {
    /// Detects TLS and terminates it with the current credentials; `None`
    /// (the connection dropped) when there is no certificate in time or
    /// the handshake fails, which is logged with the peer.
    async fn accept(&self, tcp: TcpStream, peer: SocketAddr) -> Option<Accepted> {
        let credentials = self.current_credentials().await.or_else(|| {
            tracing::warn!(%peer, "no certificate yet; connection closed");
            None
        })?;
        match tokio::time::timeout(
            self.detect_timeout + HANDSHAKE_TIMEOUT,
            accept(tcp, &credentials, self.detect_timeout),
        )
        .await
        {
            Ok(Ok(accepted)) => Some(accepted),
            Ok(Err(error)) => {
                tracing::info!(%peer, %error, "inbound TLS refused");
                None
            }
            Err(_) => {
                tracing::info!(%peer, "inbound TLS handshake timed out");
                None
            }
        }
    }

    async fn current_credentials(&self) -> Option<Arc<Credentials>> {
        let mut credentials = self.credentials.clone();
        let waited =
            tokio::time::timeout(CREDENTIALS_WAIT, credentials.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(current)) => current.clone(),
            _ => None,
        }
    }
}

/// The client's TLS state as the policy sees it.
fn client_tls(accepted: &Accepted) -> ClientTls {
    match (&accepted.tls, &accepted.client_identity) {
        (TlsStatus::Established, Some(identity)) => ClientTls::Mtls(identity.clone()),
        (TlsStatus::Established, None) => ClientTls::TlsAnonymous,
        (TlsStatus::NotTls(reason), _) => ClientTls::Plaintext(reason.as_str().to_string()),
    }
}

async fn next(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                return (tcp, peer);
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Inbound connections: to `direct` when the port is bound directly,
/// else to the original destination of the redirected connection; or,
/// when the client negotiated Linkerd's transport protocol, to the port
/// its transport header names (on the address the client reached). Such a
/// connection without a valid header, from a client without a mesh
/// identity, or naming a host for gateway forwarding is closed, and logged.
/// The named port is then served like any other: its policy, and the
/// refusal of the proxy's own ports.
pub(crate) async fn inbound(
    listener: TcpListener,
    direct: Option<SocketAddr>,
    accepting: Accepting,
    inbound: Inbound,
) {
    loop {
        let (tcp, peer) = next(&listener).await;
        let accepting = accepting.clone();
        let inbound = inbound.clone();
        tokio::spawn(async move {
            let Ok(local) = tcp.local_addr() else {
                return;
            };
            let target = match direct {
                Some(addr) => addr,
                None => original_dst(&tcp).unwrap_or(local),
            };
            let Some(mut accepted) = accepting.accept(tcp, peer).await else {
                return;
            };
            let target = if accepted.transport_header {
                let identity = accepted.client_identity.as_deref();
                let read = transport::header_target(
                    &mut accepted.io,
                    identity,
                    local.ip(),
                    transport::HEADER_TIMEOUT,
                );
                match read.await {
                    Ok(target) => target,
                    Err(error) => {
                        tracing::info!(%peer, %error, "closing a connection with a transport header");
                        return;
                    }
                }
            } else {
                target
            };
            let client = ClientInfo {
                addr: peer,
                tls: client_tls(&accepted),
            };
            inbound.serve_connection(accepted.io, client, target).await;
        });
    }
}

/// Who may send through the outbound listener: only the pod. Whatever
/// leaves through it is sent under the pod's identity, so a connection
/// from anywhere else would borrow that identity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FromPod {
    /// The pod's own address, when the proxy is given one (every pod of
    /// `strait local` shares loopback, so there loopback proves nothing).
    pub(crate) source_ip: Option<IpAddr>,
}

impl FromPod {
    /// Whether a connection from `peer`, redirected from `orig_dst` when
    /// iptables redirected it, comes from the pod: redirected by the pod's
    /// own rules (which catch only the pod's own outbound traffic), from
    /// the pod's address, or, for a sidecar without one, from loopback,
    /// which only the pod's containers share.
    pub(crate) fn admits(&self, peer: IpAddr, orig_dst: Option<SocketAddr>) -> bool {
        if orig_dst.is_some() {
            return true;
        }
        match self.source_ip {
            Some(own) => peer == own,
            None => peer.is_loopback(),
        }
    }
}

/// Outbound connections from the application, routed by their original
/// destination (redirected) or their HTTP authority; connections that do
/// not come from the pod are refused (see [`FromPod`]).
pub(crate) async fn outbound(
    listener: TcpListener,
    outbound: Outbound<MeshConnect>,
    from_pod: FromPod,
    metrics: ProxyMetrics,
) {
    loop {
        let (tcp, peer) = next(&listener).await;
        let orig_dst = original_dst(&tcp);
        if !from_pod.admits(peer.ip(), orig_dst) {
            tracing::info!(%peer, "refusing an outbound connection that is not from the pod");
            metrics.refused(Refusal::NotFromPod);
            continue;
        }
        let outbound = outbound.clone();
        tokio::spawn(async move {
            outbound.serve_connection(tcp, orig_dst).await;
        });
    }
}

/// The multicluster gateway: remote proxies connect with mTLS and their
/// requests are authorized by the policy of the gateway's own Server, then
/// forwarded by authority to the Services its cluster exports (`inbound`
/// forwards to the gateway's outbound side). Only meshed clients (a
/// verified identity) are served at all.
pub(crate) async fn gateway(listener: TcpListener, accepting: Accepting, inbound: Inbound) {
    loop {
        let (tcp, peer) = next(&listener).await;
        let accepting = accepting.clone();
        let inbound = inbound.clone();
        tokio::spawn(async move {
            let Some(target) = tcp.local_addr().ok() else {
                return;
            };
            let Some(accepted) = accepting.accept(tcp, peer).await else {
                return;
            };
            if accepted.client_identity.is_none() {
                tracing::info!(%peer, "gateway refused a client without a mesh identity");
                return;
            }
            let client = ClientInfo {
                addr: peer,
                tls: client_tls(&accepted),
            };
            inbound.serve_connection(accepted.io, client, target).await;
        });
    }
}

#[cfg(test)]
mod tests;
