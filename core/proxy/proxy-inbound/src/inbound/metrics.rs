//! Recording into the shared proxy metric families, with labels in a fixed
//! order so every series keeps its identity:
//! `direction, [authority,] target_addr, tls, client_id|no_tls_reason,
//! srv_group, srv_kind, srv_name, [route_*,] [authz_*,] [status_code,
//! classification]`.
//!
//! Only requests the application serves are labelled by their authority,
//! which the client chooses; authorization counts (refusals above all) are
//! labelled by server, route and authorization, as Linkerd's are. Every
//! series is held by its connection ([`SeriesLease`]) and goes once idle.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, SizeHint};
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use strait_decisions::authz::{ClientTls, ResourceRef};
use strait_proxy_metrics::{Labels, ProxyMetrics, RequestSeries, SeriesLease, Tls};

use super::Connection;

/// Errors of response bodies, whatever produced them.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response the proxy sends.
pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// The connection-level series: opened on creation, closed on drop. The
/// lease holds them (the target port in their labels is the client's
/// choice) while the connection lives.
pub(crate) struct ConnectionMetrics {
    close: Counter,
    open: Gauge,
    read: Counter,
    written: Counter,
    _lease: SeriesLease,
}

/// `direction, target_addr, tls..., srv_*`: the labels of connection-level
/// series.
pub(crate) fn connection_labels(connection: &Connection, server: &ResourceRef) -> Labels {
    peer_labels(connection, &connection.client.tls, server)
}

/// [`connection_labels`] with `client` as the TLS peer: a request's own
/// client, which a trusted gateway names, where it is not the connection's.
fn peer_labels(connection: &Connection, client: &ClientTls, server: &ResourceRef) -> Labels {
    Labels::inbound()
        .with("target_addr", connection.target.to_string())
        .with_tls(&Tls::from(client))
        .with_resource("srv", server)
}

impl ConnectionMetrics {
    pub(crate) fn open(
        metrics: &ProxyMetrics,
        connection: &Connection,
        server: &ResourceRef,
    ) -> Self {
        let lease = metrics.lease(connection_labels(connection, server).build());
        lease.metric(&metrics.tcp_open_total).inc();
        let open = lease.metric(&metrics.tcp_open_connections);
        open.inc();
        ConnectionMetrics {
            close: lease.metric(&metrics.tcp_close_total),
            open,
            read: lease.metric(&metrics.tcp_read_bytes_total),
            written: lease.metric(&metrics.tcp_write_bytes_total),
            _lease: lease,
        }
    }

    pub(crate) fn read_bytes(&self) -> Counter {
        self.read.clone()
    }

    pub(crate) fn write_bytes(&self) -> Counter {
        self.written.clone()
    }
}

impl Drop for ConnectionMetrics {
    fn drop(&mut self) {
        self.close.inc();
        self.open.dec();
    }
}

/// `direction, authority, target_addr, tls..., srv_*, route_*`: the labels
/// of request-level series.
fn request_labels(
    connection: &Connection,
    client: &ClientTls,
    authority: &str,
    server: &ResourceRef,
    route: &ResourceRef,
) -> Labels {
    Labels::inbound()
        .with_authority(authority)
        .with("target_addr", connection.target.to_string())
        .with_tls(&Tls::from(client))
        .with_resource("srv", server)
        .with_resource("route", route)
}

/// `direction, target_addr, tls..., srv_*, route_*`: the labels of
/// authorization series, without the authority a client chooses (a client
/// refused a thousand times under a thousand names is one series).
fn authz_labels(
    connection: &Connection,
    client: &ClientTls,
    server: &ResourceRef,
    route: &ResourceRef,
) -> Labels {
    peer_labels(connection, client, server).with_resource("route", route)
}

/// How many label sets one connection keeps series for (clients a gateway
/// names, authorities, routes); past that the oldest is forgotten.
const ROUTE_SERIES_PER_CONNECTION: usize = 16;

/// The series of one route's requests on one connection: its request and
/// response series, its denials, and its admissions by authorization.
pub(crate) struct RouteSeries {
    client: ClientTls,
    authority: String,
    server: ResourceRef,
    route: ResourceRef,
    requests: Arc<RequestSeries>,
    /// The labels of its authorization series, and their lease once one
    /// is counted.
    authz_labels: Labels,
    authz: OnceLock<SeriesLease>,
    allowed: Mutex<Vec<(Admitted, Counter)>>,
    denied: Mutex<Vec<(Arc<str>, Counter)>>,
}

/// What an admission is counted by: the authorization and the plugin
/// version that admitted.
type Admitted = (ResourceRef, Arc<str>);

/// The label naming the authz plugin version behind each decision counted
/// in `inbound_http_authz_allow_total` and `inbound_http_authz_deny_total`
/// (the `version` of `plugin_calls_total`): which plugin admitted or
/// refused, across a hot swap.
pub(crate) const PLUGIN_VERSION_LABEL: &str = "plugin_version";

/// How many plugin versions one route's series on one connection keeps
/// counters for; versions change only when an operator pushes a plugin,
/// and past this the oldest counter is let go (its series stays until
/// the connection's lease ends).
const VERSIONS_PER_ROUTE: usize = 4;

/// The counter of `key` in `counters`, made with `make` when missing,
/// letting go of the oldest beyond [`VERSIONS_PER_ROUTE`].
fn counter_of<K: PartialEq>(
    counters: &Mutex<Vec<(K, Counter)>>,
    key: K,
    make: impl FnOnce() -> Counter,
) -> Counter {
    let mut counters = counters.lock();
    if let Some((_, counter)) = counters.iter().find(|(k, _)| *k == key) {
        return counter.clone();
    }
    let counter = make();
    if counters.len() >= VERSIONS_PER_ROUTE {
        counters.remove(0);
    }
    counters.push((key, counter.clone()));
    counter
}

impl RouteSeries {
    /// The route's request and response series.
    pub(crate) fn requests(&self) -> &Arc<RequestSeries> {
        &self.requests
    }

    fn authz_lease(&self, metrics: &ProxyMetrics) -> &SeriesLease {
        self.authz
            .get_or_init(|| metrics.lease(self.authz_labels.clone().build()))
    }

    /// Counts a request `authz` admitted, by plugin `version`, in
    /// `inbound_http_authz_allow_total`.
    pub(crate) fn allowed(&self, metrics: &ProxyMetrics, authz: &ResourceRef, version: &Arc<str>) {
        let key = (authz.clone(), version.clone());
        counter_of(&self.allowed, key, || {
            let extra = Labels::new()
                .with_resource("authz", authz)
                .with(PLUGIN_VERSION_LABEL, version.to_string())
                .build();
            self.authz_lease(metrics)
                .metric_with(&metrics.inbound_http_authz_allow_total, extra)
        })
        .inc();
    }

    /// Counts a request refused by plugin `version` in
    /// `inbound_http_authz_deny_total`.
    pub(crate) fn denied(&self, metrics: &ProxyMetrics, version: &Arc<str>) {
        counter_of(&self.denied, version.clone(), || {
            let extra = Labels::new()
                .with(PLUGIN_VERSION_LABEL, version.to_string())
                .build();
            self.authz_lease(metrics)
                .metric_with(&metrics.inbound_http_authz_deny_total, extra)
        })
        .inc();
    }
}

/// The route series of one connection, looked up by client, authority,
/// server and route, so a request costs a comparison and some increments rather than
/// a dozen label strings and their hashing.
#[derive(Default)]
pub(crate) struct ConnectionSeries {
    routes: Mutex<Vec<Arc<RouteSeries>>>,
}

impl ConnectionSeries {
    /// The series of `client`'s requests for `authority` on `route` of
    /// `server`.
    pub(crate) fn route(
        &self,
        metrics: &ProxyMetrics,
        connection: &Connection,
        client: &ClientTls,
        authority: &str,
        server: &ResourceRef,
        route: &ResourceRef,
    ) -> Arc<RouteSeries> {
        let mut routes = self.routes.lock();
        if let Some(found) = routes.iter().find(|r| {
            r.authority == authority
                && r.route == *route
                && r.server == *server
                && r.client == *client
        }) {
            return found.clone();
        }
        let labels = request_labels(connection, client, authority, server, route);
        let series = Arc::new(RouteSeries {
            client: client.clone(),
            authority: authority.to_string(),
            server: server.clone(),
            route: route.clone(),
            requests: Arc::new(RequestSeries::new(metrics, labels.build())),
            authz_labels: authz_labels(connection, client, server, route),
            authz: OnceLock::new(),
            allowed: Mutex::new(Vec::new()),
            denied: Mutex::new(Vec::new()),
        });
        if routes.len() >= ROUTE_SERIES_PER_CONNECTION {
            routes.remove(0);
        }
        routes.push(series.clone());
        series
    }
}

/// Records one response: `response_latency_ms` when its headers are
/// known, `response_total` once its classification is (at the headers, or
/// for gRPC at the trailers carrying `grpc-status`).
pub(crate) struct ResponseRecorder {
    series: Arc<RequestSeries>,
    started: Instant,
}

impl ResponseRecorder {
    pub(crate) fn new(series: &Arc<RequestSeries>, started: Instant) -> Self {
        ResponseRecorder {
            series: series.clone(),
            started,
        }
    }

    /// Records the response whose headers are `status` and `headers`, and
    /// returns its body, wrapped to classify it at its end if it is a gRPC
    /// response without a status yet.
    pub(crate) fn record(
        self,
        status: StatusCode,
        headers: &HeaderMap,
        grpc_request: bool,
        body: ResponseBody,
    ) -> ResponseBody {
        let code = status.as_u16();
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1_000.0;
        self.series.latency(code, elapsed_ms);
        let grpc = grpc_request || is_grpc(headers);
        if !grpc || status.is_server_error() || headers.contains_key("grpc-status") {
            let success = classify(status, grpc.then(|| grpc_status(headers)).flatten(), grpc);
            self.count(code, success);
            return body;
        }
        UnsyncBoxBody::new(Classified {
            inner: body,
            pending: Some(Pending {
                recorder: self,
                code,
            }),
        })
    }

    fn count(self, code: u16, success: bool) {
        self.series.response(code, success);
    }
}

/// Whether headers say gRPC (`content-type: application/grpc...`).
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

fn grpc_status(headers: &HeaderMap) -> Option<u32> {
    headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Success unless a 5xx, or a gRPC response whose status is missing or
/// not OK.
fn classify(status: StatusCode, grpc_status: Option<u32>, grpc: bool) -> bool {
    if status.is_server_error() {
        return false;
    }
    if grpc {
        return grpc_status == Some(0);
    }
    true
}

struct Pending {
    recorder: ResponseRecorder,
    code: u16,
}

/// A gRPC response body whose trailers decide its classification; a
/// stream that ends without `grpc-status`, fails, or is dropped early
/// counts as a failure.
struct Classified {
    inner: ResponseBody,
    pending: Option<Pending>,
}

impl Classified {
    fn finish(&mut self, grpc_status: Option<u32>) {
        if let Some(pending) = self.pending.take() {
            pending.recorder.count(pending.code, grpc_status == Some(0));
        }
    }
}

impl Body for Classified {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let status = grpc_status(trailers);
                    self.finish(status);
                }
            }
            Poll::Ready(Some(Err(_))) | Poll::Ready(None) => self.finish(None),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Classified {
    fn drop(&mut self) {
        self.finish(None);
    }
}
