//! Serving inbound connections: policy lookup, protocol choice, and the
//! connection-level metrics every connection records.

mod http;
mod metrics;
mod tcp;
mod upstream;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ::http::{Request, Response};
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use strait_decisions::authz::{ClientTls, Protocol};
use strait_http_detect::{Detection, Protocol as Detected, detect};
use strait_io::{CountedIo, PrefixedIo};
use strait_mesh::ports::{ADMIN_PORT, CONTROL_PORT, INBOUND_PORT, OUTBOUND_PORT};
use strait_plugin_host::AuthzPlugin;
use strait_proxy_http::http_upgrade::HeldOpen;
use strait_proxy_metrics::{ProxyMetrics, Refusal};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::{debug, info, warn};

use crate::policy::PolicyWatcher;
use metrics::ConnectionMetrics;

/// A handler inside the proxy for admitted HTTP requests, given each
/// request as it arrived (an upgraded one still upgraded).
pub type LocalHttp = Arc<
    dyn Fn(Request<Incoming>) -> BoxFuture<'static, Response<BoxBody<Bytes, hyper::Error>>>
        + Send
        + Sync,
>;

/// Where admitted traffic for a port goes.
#[derive(Clone)]
pub enum Forward {
    /// `127.0.0.1:<port>`: the application shares the pod's network
    /// namespace, as on Kubernetes.
    Loopback,
    /// A fixed address per port, as the embedded runtime configures it;
    /// ports not listed are refused.
    Map(HashMap<u16, SocketAddr>),
    /// Any rule; `None` refuses the port.
    With(Arc<dyn Fn(u16) -> Option<SocketAddr> + Send + Sync>),
    /// HTTP requests to a handler in the proxy: a multicluster gateway
    /// authorizes requests with its own Server's policy, then forwards
    /// them to its cluster's Services. Opaque connections are refused,
    /// since they name no Service.
    Local(LocalHttp),
}

impl Forward {
    /// The application's address for traffic that arrived on `port`.
    pub fn address(&self, port: u16) -> Option<SocketAddr> {
        match self {
            Forward::Loopback => Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port))),
            Forward::Map(map) => map.get(&port).copied(),
            Forward::With(rule) => rule(port),
            Forward::Local(_) => None,
        }
    }
}

impl fmt::Debug for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Forward::Loopback => f.write_str("Loopback"),
            Forward::Map(map) => f.debug_tuple("Map").field(map).finish(),
            Forward::With(_) => f.write_str("With(..)"),
            Forward::Local(_) => f.write_str("Local(..)"),
        }
    }
}

/// How the inbound side behaves.
#[derive(Clone, Debug)]
pub struct InboundConfig {
    /// Where admitted traffic goes.
    pub forward: Forward,
    /// How long a connection waits for its port's first policy before it
    /// is refused (closed).
    pub policy_timeout: Duration,
    /// How long to wait for a client's first bytes when the policy asks to
    /// detect the protocol, unless the policy gives its own timeout; a
    /// client silent that long is served as opaque TCP.
    pub detect_timeout: Duration,
    /// How long to wait for the application to accept a connection before
    /// answering 502 (HTTP) or closing (TCP).
    pub connect_timeout: Duration,
    /// The proxy's own ports (inbound, outbound, admin, control). A
    /// connection for one of them is refused: forwarded on loopback it
    /// would reach the proxy itself, looping through the inbound side, or
    /// leaving through the outbound side under this pod's identity.
    pub proxy_ports: BTreeSet<u16>,
    /// The multicluster gateways whose HTTP requests are authorized as the
    /// client each names in `l5d-client-id`: a gateway terminates its
    /// clients' mTLS and forwards under its own identity, and states the
    /// client it verified. Only a peer proven by mTLS to hold one of these
    /// identities is taken at its word; empty takes no one's.
    pub trusted_gateways: Arc<BTreeSet<String>>,
}

/// What a connection is served as, by the port's declared `protocol` and
/// (unless it is declared opaque) the first bytes the client sends within
/// `detect_timeout`; and the connection, which replays those bytes.
/// `None` when the connection failed while being read.
async fn choose_protocol<I>(
    mut io: I,
    protocol: Protocol,
    detect_timeout: Duration,
) -> Option<(Detected, PrefixedIo<I>)>
where
    I: AsyncRead + Unpin,
{
    let fallback = match protocol {
        Protocol::Opaque | Protocol::Tls => {
            return Some((Detected::Opaque, PrefixedIo::new(Bytes::new(), io)));
        }
        Protocol::Unknown => Detected::Opaque,
        Protocol::Http1 => Detected::Http1,
        Protocol::Http2 | Protocol::Grpc => Detected::Http2,
    };
    let detection = match detect(&mut io, detect_timeout).await {
        Ok(detection) => detection,
        Err(e) => {
            debug!(error = %e, "connection failed while detecting its protocol");
            return None;
        }
    };
    let (detected, prefix) = match detection {
        Detection::Protocol { protocol, prefix } => (protocol, prefix),
        // Served like a client that stays silent: one that half-closes at
        // once may still wait for a server-first application to speak.
        Detection::Closed => (Detected::Opaque, Bytes::new()),
    };
    // A declared HTTP port stays HTTP; only the version is detected.
    let chosen = match (detected, fallback) {
        (Detected::Opaque, fallback) => fallback,
        (detected, _) => detected,
    };
    Some((chosen, PrefixedIo::new(prefix, io)))
}

/// The ports a sidecar's proxy listens on, which no connection from
/// outside may be forwarded to.
pub fn sidecar_ports() -> BTreeSet<u16> {
    BTreeSet::from([INBOUND_PORT, OUTBOUND_PORT, ADMIN_PORT, CONTROL_PORT])
}

impl InboundConfig {
    /// Linkerd's defaults (10 s to detect), with `forward` as given and
    /// the sidecar's ports refused.
    pub fn new(forward: Forward) -> Self {
        InboundConfig {
            forward,
            policy_timeout: Duration::from_secs(10),
            detect_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(1),
            proxy_ports: sidecar_ports(),
            trusted_gateways: Arc::default(),
        }
    }
}

impl Default for InboundConfig {
    /// Forwarding to loopback, as on Kubernetes.
    fn default() -> Self {
        InboundConfig::new(Forward::Loopback)
    }
}

/// The client of a connection, as the TLS layer decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address.
    pub addr: SocketAddr,
    /// The client's transport security (and identity).
    pub tls: ClientTls,
}

/// The inbound side of one proxy. Cloning shares everything.
#[derive(Clone)]
pub struct Inbound {
    shared: Arc<Shared>,
}

/// What every connection of the proxy uses.
pub(crate) struct Shared {
    pub config: InboundConfig,
    pub policies: PolicyWatcher,
    pub authz: Arc<AuthzPlugin>,
    pub metrics: ProxyMetrics,
}

/// One connection's fixed facts.
#[derive(Clone, Debug)]
pub(crate) struct Connection {
    pub client: ClientInfo,
    pub target: SocketAddr,
    /// Where the application is, if the port is forwarded at all.
    pub app: Option<SocketAddr>,
}

impl fmt::Debug for Inbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbound")
            .field("config", &self.shared.config)
            .field("policies", &self.shared.policies)
            .finish_non_exhaustive()
    }
}

impl Inbound {
    /// The inbound side: policies from `policies`, decisions from `authz`,
    /// metrics into `metrics` (the families shared with the outbound side).
    pub fn new(
        config: InboundConfig,
        policies: PolicyWatcher,
        authz: Arc<AuthzPlugin>,
        metrics: ProxyMetrics,
    ) -> Self {
        Inbound {
            shared: Arc::new(Shared {
                config,
                policies,
                authz,
                metrics,
            }),
        }
    }

    /// Serves one accepted connection until it ends. `client` is who
    /// connected and how (decided by the TLS layer); `target` is the
    /// address the client connected to, whose port selects the policy.
    ///
    /// Without a policy for the port within the configured timeout the
    /// connection is closed unserved. HTTP is authorized per request
    /// (refusals answer 403, or gRPC `PERMISSION_DENIED`, and keep the
    /// connection); opaque TCP per connection, and again whenever the
    /// policy changes. An admitted HTTP/1.1 upgrade or `CONNECT` the
    /// application accepts turns the connection into a tunnel to the
    /// application, which runs on after this returns.
    pub async fn serve_connection<I>(&self, io: I, client: ClientInfo, target: SocketAddr)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let shared = &self.shared;
        let port = target.port();
        if shared.config.proxy_ports.contains(&port) {
            info!(
                client = %client.addr,
                %target,
                "refusing a connection to the proxy's own port: forwarding it would loop through the proxy"
            );
            shared.metrics.refused(Refusal::Loop);
            return;
        }
        let policies = match shared
            .policies
            .policy_within(port, shared.config.policy_timeout)
            .await
        {
            Ok(policies) => policies,
            Err(e) => {
                warn!(client = %client.addr, %target, error = %e, "refusing a connection without policy");
                return;
            }
        };
        let policy = policies.borrow().clone();
        let connection = Connection {
            app: shared.config.forward.address(port),
            client,
            target,
        };
        // Shared with the tunnel an upgrade turns the connection into, so
        // that it counts as open until the tunnel closes.
        let counters = Arc::new(ConnectionMetrics::open(
            &shared.metrics,
            &connection,
            &policy.server,
        ));
        let (read, written) = (counters.read_bytes(), counters.write_bytes());
        let io = CountedIo::new(
            io,
            move |n| {
                read.inc_by(n);
            },
            move |n| {
                written.inc_by(n);
            },
        );

        let detect_timeout = policy
            .detect_timeout
            .unwrap_or(shared.config.detect_timeout);
        let Some((served_as, io)) = choose_protocol(io, policy.protocol, detect_timeout).await
        else {
            return;
        };
        match served_as {
            Detected::Opaque => tcp::serve(shared, io, &connection, policies).await,
            Detected::Http1 | Detected::Http2 => {
                let held = HeldOpen::new(counters.clone());
                http::serve(
                    self.shared.clone(),
                    io,
                    served_as,
                    connection,
                    policies,
                    held,
                )
                .await
            }
        }
        drop(counters);
    }
}
