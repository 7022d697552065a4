//! The outbound side: detection, then HTTP or opaque forwarding.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ::http::{Request, Response};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use parking_lot::Mutex;
use strait_http_detect::{Detection, Protocol, detect};
use strait_io::PrefixedIo;
use strait_proxy_metrics::{LabelSet, Labels, ProxyMetrics, RequestSeries, Tls};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use crate::balance::Balancer;
use crate::connect::{Connect, EndpointTarget};
use crate::discovery::{Discovery, Resolved};
use crate::gateway::GatewayScope;
use crate::http::client::Pools;
use crate::{http, tcp};

/// Linkerd's reason for plaintext to an endpoint discovery gave no identity.
const NO_IDENTITY_REASON: &str = "not_provided_by_service_discovery";

/// How often unused balancers are looked for.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// How many authorities keep a balancer by default: far more than the
/// destinations of one workload, few enough that a client naming made-up
/// ones (a gateway's peers name any) cannot exhaust the proxy's memory.
pub const DEFAULT_MAX_BALANCERS: usize = 10_000;

/// The outbound side's timings and limits.
#[derive(Clone, Debug)]
pub struct OutboundConfig {
    /// How long to wait for a connection's first bytes before forwarding it
    /// as opaque TCP (server-first protocols send nothing).
    pub detect_timeout: Duration,
    /// How long a request waits for endpoints before it is answered 503;
    /// after that, requests for the authority fail at once until endpoints
    /// appear.
    pub no_endpoints_timeout: Duration,
    /// How long connecting to an endpoint may take.
    pub connect_timeout: Duration,
    /// Request bodies up to this size (by `content-length`) are buffered so
    /// the request can be sent again when its endpoint cannot be reached.
    pub max_buffered_body: usize,
    /// How long an authority's balancer (and so its connections and its
    /// discovery stream) is kept without requests.
    pub idle_timeout: Duration,
    /// How many authorities keep a balancer: past it, the least recently
    /// used eighth is dropped at once (requests in flight keep theirs), so
    /// the authorities a client names cannot grow the proxy's state.
    pub max_balancers: usize,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            detect_timeout: Duration::from_secs(10),
            no_endpoints_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(3),
            max_buffered_body: 64 * 1024,
            idle_timeout: Duration::from_secs(60),
            max_balancers: DEFAULT_MAX_BALANCERS,
        }
    }
}

/// What the proxy keeps per endpoint: its connection pools and its
/// metric series.
pub(crate) struct EndpointExtra<C: Connect> {
    pub(crate) pools: Pools<C>,
    /// The request series labelled `direction`, `authority`,
    /// `target_addr`, TLS and `dst_*`; through [`RequestSeries::lease`]
    /// the endpoint's TCP series share their labels, and all are held
    /// while the endpoint is balanced over.
    pub(crate) series: RequestSeries,
}

/// The balancer of one authority, with its fail-fast state.
pub(crate) struct Entry<C: Connect> {
    pub(crate) balancer: Balancer<EndpointExtra<C>>,
    failfast: AtomicBool,
    last_used: AtomicU64,
}

/// Why a request or connection found nowhere to go.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unavailable {
    #[error("{0} has no ready endpoints")]
    NoEndpoints(String),
    /// Still none after a request already waited the whole no-endpoints
    /// timeout: answered at once, in Linkerd's words.
    #[error("{0} has no ready endpoints: service in fail-fast")]
    FailFast(String),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("discovery did not answer for {0} in time")]
    Pending(String),
    #[error("discovery failed for {0}: {1}")]
    Failed(String, String),
    #[error("{1}")]
    Refused(String, String),
}

pub(crate) struct Shared<C: Connect> {
    pub(crate) config: OutboundConfig,
    discovery: Discovery,
    pub(crate) connect: C,
    pub(crate) metrics: ProxyMetrics,
    balancers: Mutex<HashMap<String, Arc<Entry<C>>>>,
    started: Instant,
    last_sweep: AtomicU64,
}

/// The outbound side of the proxy. Cloning shares its balancers and
/// connection pools.
pub struct Outbound<C: Connect> {
    shared: Arc<Shared<C>>,
}

impl<C: Connect> Clone for Outbound<C> {
    fn clone(&self) -> Self {
        Outbound {
            shared: self.shared.clone(),
        }
    }
}

impl<C: Connect> std::fmt::Debug for Outbound<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("config", &self.shared.config)
            .field("discovery", &self.shared.discovery)
            .finish_non_exhaustive()
    }
}

impl<C: Connect> Outbound<C> {
    /// The outbound side resolving through `discovery`, connecting with
    /// `connect` and recording into `metrics`.
    pub fn new(
        config: OutboundConfig,
        discovery: Discovery,
        connect: C,
        metrics: ProxyMetrics,
    ) -> Self {
        Outbound {
            shared: Arc::new(Shared {
                config,
                discovery,
                connect,
                metrics,
                balancers: Mutex::new(HashMap::new()),
                started: Instant::now(),
                last_sweep: AtomicU64::new(0),
            }),
        }
    }

    /// Serves one outbound connection of the application until it closes.
    /// `orig_dst` is the address the application connected to: opaque
    /// traffic goes to one of its endpoints, and HTTP requests without an
    /// authority are resolved through it. Errors are logged, not returned:
    /// there is nobody to return them to.
    pub async fn serve_connection<I>(&self, io: I, orig_dst: Option<SocketAddr>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        self.serve(io, orig_dst, None).await;
    }

    /// Serves one connection a linked cluster's proxy made to this
    /// multicluster gateway: HTTP requests for names in `scope` are
    /// forwarded, others are answered 403 with the reason; opaque traffic,
    /// which names no Service, is closed.
    pub async fn serve_gateway_connection<I>(&self, io: I, scope: Arc<GatewayScope>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        self.serve(io, None, Some(scope)).await;
    }

    /// Answers one request a multicluster gateway admitted (by the policy
    /// of its own Server): forwarded by authority when `scope` and the
    /// control plane allow the name, else answered 403 with the reason.
    pub async fn gateway_request(
        &self,
        request: Request<Incoming>,
        scope: &GatewayScope,
    ) -> Response<BoxBody<Bytes, hyper::Error>> {
        http::handle(&self.shared, request, None, Some(scope)).await
    }

    async fn serve<I>(&self, io: I, orig_dst: Option<SocketAddr>, scope: Option<Arc<GatewayScope>>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut io = io;
        let (protocol, prefix) = match detect(&mut io, self.shared.config.detect_timeout).await {
            Ok(Detection::Protocol { protocol, prefix }) => (protocol, prefix),
            Ok(Detection::Closed) => return,
            Err(error) => {
                tracing::debug!(%error, "reading the first bytes failed");
                return;
            }
        };
        let io = PrefixedIo::new(prefix, io);
        let shared = self.shared.clone();
        match protocol {
            Protocol::Http1 => {
                let service = service_fn(move |request| {
                    let shared = shared.clone();
                    let scope = scope.clone();
                    async move {
                        let response = http::handle(&shared, request, orig_dst, scope.as_deref());
                        Ok::<_, Infallible>(response.await)
                    }
                });
                // An upgrade the endpoint accepts turns the connection
                // into a tunnel, which runs on after this returns.
                let served = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(io), service)
                    .with_upgrades()
                    .await;
                if let Err(error) = served {
                    tracing::debug!(%error, "HTTP/1 connection failed");
                }
            }
            Protocol::Http2 => {
                let service = service_fn(move |request| {
                    let shared = shared.clone();
                    let scope = scope.clone();
                    async move {
                        let response = http::handle(&shared, request, orig_dst, scope.as_deref());
                        Ok::<_, Infallible>(response.await)
                    }
                });
                let served = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(io), service)
                    .await;
                if let Err(error) = served {
                    tracing::debug!(%error, "HTTP/2 connection failed");
                }
            }
            Protocol::Opaque => match orig_dst {
                Some(dst) => tcp::forward(&self.shared, io, dst).await,
                None => tracing::info!(
                    "closing an opaque connection with no original destination to send it to"
                ),
            },
        }
    }

    /// How many authorities have a balancer now.
    pub fn balancers(&self) -> usize {
        self.shared.balancers.lock().len()
    }
}

impl<C: Connect> Shared<C> {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The balancer of `authority`, made (and its resolution started) on
    /// first use.
    pub(crate) fn entry(&self, authority: &str) -> Arc<Entry<C>> {
        let now = self.now_ms();
        let mut balancers = self.balancers.lock();
        self.sweep(&mut balancers, now, false);
        if let Some(entry) = balancers.get(authority) {
            entry.last_used.store(now, Ordering::Relaxed);
            return entry.clone();
        }
        if balancers.len() >= self.config.max_balancers {
            self.make_room(&mut balancers, now);
        }
        let connect = self.connect.clone();
        let metrics = self.metrics.clone();
        let connect_timeout = self.config.connect_timeout;
        let label_authority = authority.to_string();
        let new_endpoint = move |target: &Arc<EndpointTarget>| EndpointExtra {
            pools: Pools::new(connect.clone(), target.clone(), connect_timeout),
            series: RequestSeries::new(&metrics, endpoint_labels(&label_authority, target)),
        };
        let entry = Arc::new(Entry {
            balancer: Balancer::new(
                self.discovery.resolve(authority),
                new_endpoint,
                crate::balance::PeakEwma::DEFAULT_DECAY,
            ),
            failfast: AtomicBool::new(false),
            last_used: AtomicU64::new(now),
        });
        balancers.insert(authority.to_string(), entry.clone());
        entry
    }

    /// Forgets the balancers nobody used for the idle timeout, so their
    /// connections and discovery streams close; at most every
    /// [`SWEEP_INTERVAL`] unless `force`d.
    fn sweep(&self, balancers: &mut HashMap<String, Arc<Entry<C>>>, now: u64, force: bool) {
        let last = self.last_sweep.load(Ordering::Relaxed);
        let interval = u64::try_from(SWEEP_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if !force && now.saturating_sub(last) < interval {
            return;
        }
        self.last_sweep.store(now, Ordering::Relaxed);
        let idle = u64::try_from(self.config.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        balancers.retain(|_, entry| {
            Arc::strong_count(entry) > 1
                || now.saturating_sub(entry.last_used.load(Ordering::Relaxed)) < idle
        });
    }

    /// At the cap: the idle go, then the least recently used eighth, in use
    /// or not (a request in flight keeps its balancer until it ends; the
    /// next request for that authority makes a new one).
    fn make_room(&self, balancers: &mut HashMap<String, Arc<Entry<C>>>, now: u64) {
        self.sweep(balancers, now, true);
        let max = self.config.max_balancers;
        if balancers.len() < max {
            return;
        }
        let excess = balancers.len() + 1 - max;
        let drop = excess.max(max / 8).min(balancers.len());
        let mut by_use: Vec<(u64, String)> = balancers
            .iter()
            .map(|(authority, entry)| (entry.last_used.load(Ordering::Relaxed), authority.clone()))
            .collect();
        by_use.sort_unstable();
        for (_, authority) in by_use.into_iter().take(drop) {
            balancers.remove(&authority);
        }
        tracing::debug!(
            dropped = drop,
            "too many balancers: dropped the least recently used"
        );
    }

    /// Waits until `authority` has endpoints: at most the no-endpoints
    /// timeout, not at all once that timeout has passed without any.
    pub(crate) async fn ready(&self, authority: &str, entry: &Entry<C>) -> Result<(), Unavailable> {
        let mut resolution = entry.balancer.resolution();
        let settled = |r: &Resolved| {
            matches!(
                r,
                Resolved::Endpoints(_) | Resolved::Failed(_) | Resolved::Refused(_)
            )
        };
        let in_failfast = entry.failfast.load(Ordering::Relaxed);
        if !settled(&resolution.borrow()) && !in_failfast {
            let waited = tokio::time::timeout(
                self.config.no_endpoints_timeout,
                resolution.wait_for(settled),
            )
            .await;
            if waited.is_err() {
                entry.failfast.store(true, Ordering::Relaxed);
            }
        }
        let state = resolution.borrow().clone();
        match state {
            Resolved::Endpoints(_) => {
                entry.failfast.store(false, Ordering::Relaxed);
                Ok(())
            }
            Resolved::Pending | Resolved::NoEndpoints { exists: true } if in_failfast => {
                Err(Unavailable::FailFast(authority.to_string()))
            }
            Resolved::Pending => Err(Unavailable::Pending(authority.to_string())),
            Resolved::NoEndpoints { exists: true } => {
                Err(Unavailable::NoEndpoints(authority.to_string()))
            }
            Resolved::NoEndpoints { exists: false } => {
                Err(Unavailable::NotFound(authority.to_string()))
            }
            Resolved::Failed(message) => Err(Unavailable::Failed(authority.to_string(), message)),
            Resolved::Refused(message) => Err(Unavailable::Refused(authority.to_string(), message)),
        }
    }
}

/// The labels every metric of an endpoint carries.
fn endpoint_labels(authority: &str, target: &EndpointTarget) -> LabelSet {
    let tls = match &target.identity {
        Some(identity) => Tls::Server(identity.clone()),
        None => Tls::Plaintext(NO_IDENTITY_REASON.to_string()),
    };
    Labels::outbound()
        .with_authority(authority)
        .with("target_addr", target.addr.to_string())
        .with_tls(&tls)
        .with_prefixed("dst_", &target.labels)
        .build()
}
