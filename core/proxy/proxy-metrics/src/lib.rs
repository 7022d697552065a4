//! The proxy's traffic metrics, under the names and labels Linkerd's proxy
//! exports, so that `viz stat`, `viz authz` and Linkerd's dashboards read
//! strait's proxies unchanged.
//!
//! Both directions of the proxy record into the same families
//! (`request_total` carries `direction="inbound"` or `"outbound"`), so the
//! families are defined once here and handed to both. Label sets are
//! built per request or connection with [`Labels`]; label names follow
//! Linkerd: `direction`, `authority`, `target_addr`, `tls`, `client_id` /
//! `server_id` / `no_tls_reason`, `srv_*`, `route_*`, `authz_*`, and the
//! destination's labels prefixed `dst_` on outbound traffic.
//!
//! Series whose labels hold a value a client chooses (an authority, a
//! target port) are made through a [`SeriesLease`], held by what records
//! into them, and removed once idle ([`Retention`]), so that no client can
//! grow the proxy's memory by inventing values.

mod labels;
mod retain;
mod series;

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use retain::Tracker;

pub use labels::{LabelSet, Labels, MAX_AUTHORITY_LABEL, Tls};
pub use retain::{DEFAULT_MAX_SERIES, DEFAULT_RETAIN_IDLE, Retention, SeriesLease};
pub use series::RequestSeries;

/// Upper bounds of `response_latency_ms`, as Linkerd's proxy buckets them,
/// so histogram quantiles computed by `viz` match Linkerd's.
pub const LATENCY_BUCKETS_MS: [f64; 25] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0,
    1_000.0, 2_000.0, 3_000.0, 4_000.0, 5_000.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 50_000.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS_MS)
}

/// A histogram family whose histograms use Linkerd's latency buckets.
pub type LatencyFamily = Family<LabelSet, Histogram, fn() -> Histogram>;

/// Every traffic metric family of one proxy. Cloning shares the families.
#[derive(Clone, Debug)]
pub struct ProxyMetrics {
    /// `request_total`: HTTP requests received (inbound) or sent (outbound).
    pub request_total: Family<LabelSet, Counter>,
    /// `response_total`: responses, with `status_code` and `classification`.
    pub response_total: Family<LabelSet, Counter>,
    /// `response_latency_ms`: time to the response headers, by status.
    pub response_latency_ms: LatencyFamily,
    /// `tcp_open_total`: connections opened.
    pub tcp_open_total: Family<LabelSet, Counter>,
    /// `tcp_close_total`: connections closed, with `errno` when one failed.
    pub tcp_close_total: Family<LabelSet, Counter>,
    /// `tcp_open_connections`: connections open now.
    pub tcp_open_connections: Family<LabelSet, Gauge>,
    /// `tcp_read_bytes_total`: bytes read from the peer.
    pub tcp_read_bytes_total: Family<LabelSet, Counter>,
    /// `tcp_write_bytes_total`: bytes written to the peer.
    pub tcp_write_bytes_total: Family<LabelSet, Counter>,
    /// `inbound_http_authz_allow_total`: requests admitted, with `authz_*`.
    pub inbound_http_authz_allow_total: Family<LabelSet, Counter>,
    /// `inbound_http_authz_deny_total`: requests refused (no `authz_*`).
    pub inbound_http_authz_deny_total: Family<LabelSet, Counter>,
    /// `inbound_tcp_authz_allow_total`: connections admitted, with `authz_*`.
    pub inbound_tcp_authz_allow_total: Family<LabelSet, Counter>,
    /// `inbound_tcp_authz_deny_total`: connections refused.
    pub inbound_tcp_authz_deny_total: Family<LabelSet, Counter>,
    /// `inbound_tcp_authz_terminate_total`: open connections closed because
    /// a policy change no longer admits them.
    pub inbound_tcp_authz_terminate_total: Family<LabelSet, Counter>,
    /// `connection_refused_total`: connections refused before they were
    /// served, by `direction` and `reason` (a fixed set: [`Refusal`]).
    pub connection_refused_total: Family<LabelSet, Counter>,
    /// `outbound_http_errors_total`: requests the outbound side answered
    /// with an error of its own before any endpoint saw them, by `error`
    /// (a fixed set: [`HttpError`]), as Linkerd's proxy counts them. They
    /// are in no `response_total` series: those are per endpoint.
    pub outbound_http_errors_total: Family<LabelSet, Counter>,
    /// The label sets with values a client chooses, and who holds them.
    tracker: Arc<Tracker>,
}

/// Why a connection was refused before it was served: a closed set, so
/// the series of `connection_refused_total` stay few whatever peers send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Inbound: the connection was for one of the proxy's own ports, so
    /// forwarding it would loop it through the proxy (and, to the outbound
    /// port, send it on under the pod's identity).
    Loop,
    /// Outbound: the connection was neither redirected to the proxy by the
    /// pod's iptables nor made by the pod itself.
    NotFromPod,
}

impl Refusal {
    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Loop => "loop",
            Refusal::NotFromPod => "not_from_pod",
        }
    }

    /// The `direction` the refusal happens on.
    pub fn direction(self) -> &'static str {
        match self {
            Refusal::Loop => "inbound",
            Refusal::NotFromPod => "outbound",
        }
    }
}

/// Why the outbound side answered a request itself, before any endpoint
/// saw it: a closed set, so the series of `outbound_http_errors_total`
/// stay few whatever clients send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// No endpoint was ready within the fail-fast timeout (503).
    FailFast,
    /// Policy refused the request: the destination's outbound policy, or a
    /// gateway's scope (403).
    Forbidden,
    /// The request itself was invalid: no authority, a bad
    /// `l5d-orig-proto`, an unreadable body (400).
    BadRequest,
    /// Discovery failed or named nothing (502, 503).
    Unexpected,
}

impl HttpError {
    /// The `error` label: Linkerd's names where Linkerd's proxy has the
    /// same error.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpError::FailFast => "failfast",
            HttpError::Forbidden => "forbidden",
            HttpError::BadRequest => "bad request",
            HttpError::Unexpected => "unexpected",
        }
    }
}

impl Default for ProxyMetrics {
    fn default() -> Self {
        ProxyMetrics::new()
    }
}

impl ProxyMetrics {
    /// Empty families, keeping idle series as Linkerd's proxy does.
    pub fn new() -> Self {
        ProxyMetrics::with_retention(Retention::default())
    }

    /// Empty families, keeping idle series as `retention` says.
    pub fn with_retention(retention: Retention) -> Self {
        ProxyMetrics {
            request_total: Family::default(),
            response_total: Family::default(),
            response_latency_ms: Family::new_with_constructor(latency_histogram),
            tcp_open_total: Family::default(),
            tcp_close_total: Family::default(),
            tcp_open_connections: Family::default(),
            tcp_read_bytes_total: Family::default(),
            tcp_write_bytes_total: Family::default(),
            inbound_http_authz_allow_total: Family::default(),
            inbound_http_authz_deny_total: Family::default(),
            inbound_tcp_authz_allow_total: Family::default(),
            inbound_tcp_authz_deny_total: Family::default(),
            inbound_tcp_authz_terminate_total: Family::default(),
            connection_refused_total: Family::default(),
            outbound_http_errors_total: Family::default(),
            tracker: Arc::new(Tracker::new(retention)),
        }
    }

    /// How long idle series are kept.
    pub fn retention(&self) -> Retention {
        self.tracker.retention()
    }

    /// A hold on the series labelled `labels` (and on the longer label sets
    /// made through it): every series whose labels carry a value a client
    /// chooses is made through a lease, so that it goes once nothing holds
    /// it (see [`Retention`]). Take it when the first value is recorded and
    /// keep it as long as the thing counted lives.
    pub fn lease(&self, labels: LabelSet) -> SeriesLease {
        self.tracker.lease(labels, |labels| self.forget(labels))
    }

    /// Removes the series nothing has held for longer than
    /// [`Retention::idle`]; the proxy calls it periodically, as creating
    /// series only sweeps every few seconds.
    pub fn evict_idle(&self) {
        self.tracker.evict_idle(|labels| self.forget(labels));
    }

    /// How many label sets are held or kept idle now.
    pub fn tracked_series(&self) -> usize {
        self.tracker.len()
    }

    /// Removes the series labelled exactly `labels` from every family.
    fn forget(&self, labels: &LabelSet) {
        self.request_total.remove(labels);
        self.response_total.remove(labels);
        self.response_latency_ms.remove(labels);
        self.tcp_open_total.remove(labels);
        self.tcp_close_total.remove(labels);
        self.tcp_open_connections.remove(labels);
        self.tcp_read_bytes_total.remove(labels);
        self.tcp_write_bytes_total.remove(labels);
        self.inbound_http_authz_allow_total.remove(labels);
        self.inbound_http_authz_deny_total.remove(labels);
        self.inbound_tcp_authz_allow_total.remove(labels);
        self.inbound_tcp_authz_deny_total.remove(labels);
        self.inbound_tcp_authz_terminate_total.remove(labels);
        self.connection_refused_total.remove(labels);
        self.outbound_http_errors_total.remove(labels);
    }

    /// Counts one connection refused for `why`.
    pub fn refused(&self, why: Refusal) {
        let labels = Labels::new()
            .with("direction", why.direction())
            .with("reason", why.as_str())
            .build();
        self.connection_refused_total.get_or_create(&labels).inc();
    }

    /// Counts one request the outbound side answered itself, for `why`.
    pub fn outbound_http_error(&self, why: HttpError) {
        let labels = Labels::new().with("error", why.as_str()).build();
        self.outbound_http_errors_total.get_or_create(&labels).inc();
    }

    /// Registers every family under Linkerd's name (the text encoder adds
    /// `_total` to counters). Register into a sub-registry with the pod's
    /// labels (`namespace`, `pod`, `deployment`, ...) when no Prometheus
    /// scrape configuration adds them, as in the embedded runtime.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "request",
            "HTTP requests, by direction and destination",
            self.request_total.clone(),
        );
        registry.register(
            "response",
            "HTTP responses, by status code and classification",
            self.response_total.clone(),
        );
        registry.register(
            "response_latency_ms",
            "Time from the request to its response headers, in milliseconds",
            self.response_latency_ms.clone(),
        );
        registry.register(
            "tcp_open",
            "TCP connections opened",
            self.tcp_open_total.clone(),
        );
        registry.register(
            "tcp_close",
            "TCP connections closed",
            self.tcp_close_total.clone(),
        );
        registry.register(
            "tcp_open_connections",
            "TCP connections open now",
            self.tcp_open_connections.clone(),
        );
        registry.register(
            "tcp_read_bytes",
            "Bytes read from peers",
            self.tcp_read_bytes_total.clone(),
        );
        registry.register(
            "tcp_write_bytes",
            "Bytes written to peers",
            self.tcp_write_bytes_total.clone(),
        );
        registry.register(
            "inbound_http_authz_allow",
            "Inbound HTTP requests admitted, by authorization",
            self.inbound_http_authz_allow_total.clone(),
        );
        registry.register(
            "inbound_http_authz_deny",
            "Inbound HTTP requests refused by policy",
            self.inbound_http_authz_deny_total.clone(),
        );
        registry.register(
            "inbound_tcp_authz_allow",
            "Inbound TCP connections admitted, by authorization",
            self.inbound_tcp_authz_allow_total.clone(),
        );
        registry.register(
            "inbound_tcp_authz_deny",
            "Inbound TCP connections refused by policy",
            self.inbound_tcp_authz_deny_total.clone(),
        );
        registry.register(
            "inbound_tcp_authz_terminate",
            "Inbound TCP connections closed when a policy change no longer admitted them",
            self.inbound_tcp_authz_terminate_total.clone(),
        );
        registry.register(
            "connection_refused",
            "Connections refused before they were served: loops through the proxy's own ports, and outbound connections not from the pod",
            self.connection_refused_total.clone(),
        );
        registry.register(
            "outbound_http_errors",
            "Outbound HTTP requests answered with the proxy's own error before any endpoint saw them",
            self.outbound_http_errors_total.clone(),
        );
    }
}

#[cfg(test)]
mod tests;
