//! `viz stat` and `viz authz` from a Prometheus that scrapes the proxies,
//! with the queries Linkerd's viz sends to its Prometheus.
//!
//! The series are selected by the `namespace`, `deployment` and `pod`
//! labels that the scrape configuration (or the embedded runtime) adds to
//! every series of a proxy.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::authz::{AuthzData, authz_ref, plugin_version, srv_route};
use crate::quantile::latency_ms;
use crate::scrapes::PodRef;
use crate::service::{ServiceRef, service_rows};
use crate::stat::{finish, gauge, skeletons, success_rate};
use crate::{AuthzRow, Query, ResourceKind, StatRow, TrafficStats, VizError};

/// How long one query may take before it is reported as failed.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// A pod as the cluster knows it, for the rows and MESHED column of
/// `viz stat` (Prometheus knows only pods that exported metrics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub name: String,
    /// The deployment the pod belongs to, if any.
    pub deployment: Option<String>,
    /// The ReplicaSet that controls the pod, if any.
    pub replicaset: Option<String>,
    /// The StatefulSet that controls the pod, if any.
    pub statefulset: Option<String>,
    /// Whether the pod runs a strait proxy.
    pub meshed: bool,
    /// Whether the pod is ready.
    pub ready: bool,
}

/// One series of an instant vector: its labels and value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct VectorSample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl VectorSample {
    fn label(&self, name: &str) -> &str {
        self.labels.get(name).map(String::as_str).unwrap_or("")
    }
}

#[derive(Deserialize)]
struct ApiResponse {
    status: String,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct ApiData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct ApiSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

/// Why a body of `/api/v1/query` is not an instant vector.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// The body is not the API's JSON.
    #[error("invalid response: {0}")]
    Json(#[source] serde_json::Error),
    /// Prometheus answered with an error status.
    #[error("{error_type}: {message}")]
    Api {
        /// `errorType`, e.g. `bad_data` (`error` when absent).
        error_type: String,
        /// `error` (`no error message` when absent).
        message: String,
    },
    /// A success without `data`.
    #[error("a successful response without data")]
    NoData,
    /// A result that is not an instant vector, e.g. a scalar.
    #[error("expected a vector result, got {0:?}")]
    NotVector(String),
    /// A vector whose samples are not `{metric, value}`.
    #[error("invalid vector: {0}")]
    Vector(#[source] serde_json::Error),
    /// A sample value that is no number.
    #[error("invalid sample value {0:?}")]
    SampleValue(String),
}

/// Why a Prometheus query failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The URL is not `http://`; Prometheus is reached inside the cluster
    /// or through a port-forward.
    #[error("only http:// URLs are supported")]
    NotHttp,
    /// The query makes no valid URI.
    #[error("invalid URL: {0}")]
    Url(#[source] http::uri::InvalidUri),
    /// The query makes no valid request.
    #[error("invalid request: {0}")]
    Request(#[source] http::Error),
    /// Prometheus could not be reached, or the exchange broke.
    #[error("request failed: {0}")]
    Send(#[source] hyper_util::client::legacy::Error),
    /// The response's body could not be read.
    #[error("reading the response failed: {0}")]
    Body(#[source] hyper::Error),
    /// No answer within the query timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// A failure status with an instant vector body.
    #[error("HTTP status {0}")]
    Status(http::StatusCode),
    /// A failure status, and a body that says why.
    #[error("HTTP status {status}: {source}")]
    StatusResponse {
        /// The status.
        status: http::StatusCode,
        /// What the body says.
        #[source]
        source: ResponseError,
    },
    /// A success status whose body is no instant vector.
    #[error(transparent)]
    Response(#[from] ResponseError),
}

/// Reads the body of `/api/v1/query` into an instant vector; anything else
/// (an error status, a scalar) is an error naming what was found.
pub(crate) fn parse_vector(body: &[u8]) -> Result<Vec<VectorSample>, ResponseError> {
    let response: ApiResponse = serde_json::from_slice(body).map_err(ResponseError::Json)?;
    if response.status != "success" {
        return Err(ResponseError::Api {
            error_type: response.error_type.unwrap_or_else(|| "error".to_owned()),
            message: response
                .error
                .unwrap_or_else(|| "no error message".to_owned()),
        });
    }
    let data = response.data.ok_or(ResponseError::NoData)?;
    if data.result_type != "vector" {
        return Err(ResponseError::NotVector(data.result_type));
    }
    let samples: Vec<ApiSample> =
        serde_json::from_value(data.result).map_err(ResponseError::Vector)?;
    samples
        .into_iter()
        .map(|sample| {
            let value = crate::parse::parse_value(&sample.value.1)
                .ok_or_else(|| ResponseError::SampleValue(sample.value.1.clone()))?;
            Ok(VectorSample {
                labels: sample.metric,
                value,
            })
        })
        .collect()
}

/// The range of a window as PromQL writes it (`1m`, `90s`, `1500ms`).
pub(crate) fn promql_range(window: Duration) -> String {
    let millis = window.as_millis();
    if !millis.is_multiple_of(1000) {
        format!("{millis}ms")
    } else if millis.is_multiple_of(3_600_000) {
        format!("{}h", millis / 3_600_000)
    } else if millis.is_multiple_of(60_000) {
        format!("{}m", millis / 60_000)
    } else {
        format!("{}s", millis / 1000)
    }
}

fn quote(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// The label selector of inbound traffic of the selected resources:
/// `{direction="inbound", namespace="...", deployment="..."}`. Without a
/// name, deployments are limited to series having one, so pods outside a
/// deployment count in neither source.
pub(crate) fn selector(namespace: Option<&str>, kind: ResourceKind, name: Option<&str>) -> String {
    selector_of(true, namespace, kind, name)
}

/// [`selector`] for the `inbound_*` families, which are inbound by name:
/// Linkerd's proxy gives them no `direction` label, so none is matched.
pub(crate) fn inbound_family_selector(
    namespace: Option<&str>,
    kind: ResourceKind,
    name: Option<&str>,
) -> String {
    selector_of(false, namespace, kind, name)
}

fn selector_of(
    direction: bool,
    namespace: Option<&str>,
    kind: ResourceKind,
    name: Option<&str>,
) -> String {
    let mut matchers = Vec::new();
    if direction {
        matchers.push("direction=\"inbound\"".to_owned());
    }
    if let Some(namespace) = namespace {
        matchers.push(format!("namespace={}", quote(namespace)));
    }
    let label = kind.label();
    match name {
        Some(name) => matchers.push(format!("{label}={}", quote(name))),
        // Workloads: only the series of pods that have one, so pods
        // outside every workload of the kind count in neither source.
        None if !matches!(kind, ResourceKind::Pod | ResourceKind::Namespace) => {
            matchers.push(format!("{label}!=\"\""))
        }
        None => {}
    }
    format!("{{{}}}", matchers.join(", "))
}

/// The queries of `viz stat`, as Linkerd's viz writes them.
pub(crate) struct StatQueries {
    pub responses: String,
    pub quantiles: [String; 3],
    pub tcp_open: String,
    pub read_bytes: String,
    pub write_bytes: String,
}

/// Linkerd's quantiles: p50, p95 and p99.
const QUANTILES: [&str; 3] = ["0.5", "0.95", "0.99"];

pub(crate) fn stat_queries(query: &Query) -> StatQueries {
    if query.resource == ResourceKind::Service {
        return service_queries(query);
    }
    let selector = selector(
        query.namespace.as_deref(),
        query.resource,
        query.name.as_deref(),
    );
    let by = match query.resource {
        ResourceKind::Namespace => "namespace".to_owned(),
        kind => format!("namespace, {}", kind.label()),
    };
    queries_of(&selector, &by, query.window)
}

/// The queries of `viz stat svc`: what meshed clients sent to each
/// Service, from their outbound series, by the destination's labels, as
/// Linkerd's viz asks.
fn service_queries(query: &Query) -> StatQueries {
    let mut matchers = vec!["direction=\"outbound\"".to_owned()];
    if let Some(namespace) = query.namespace.as_deref() {
        matchers.push(format!("dst_namespace={}", quote(namespace)));
    }
    match query.name.as_deref() {
        Some(name) => matchers.push(format!("dst_service={}", quote(name))),
        None => matchers.push("dst_service!=\"\"".to_owned()),
    }
    let selector = format!("{{{}}}", matchers.join(", "));
    queries_of(&selector, "dst_namespace, dst_service", query.window)
}

fn queries_of(selector: &str, by: &str, window: Duration) -> StatQueries {
    let range = promql_range(window);
    StatQueries {
        responses: format!(
            "sum(increase(response_total{selector}[{range}])) by ({by}, classification)"
        ),
        quantiles: QUANTILES.map(|q| {
            format!(
                "histogram_quantile({q}, sum(irate(response_latency_ms_bucket{selector}[{range}])) by (le, {by}))"
            )
        }),
        tcp_open: format!("sum(tcp_open_connections{selector}) by ({by})"),
        read_bytes: format!("sum(increase(tcp_read_bytes_total{selector}[{range}])) by ({by})"),
        write_bytes: format!("sum(increase(tcp_write_bytes_total{selector}[{range}])) by ({by})"),
    }
}

/// The queries of `viz authz`.
pub(crate) struct AuthzQueries {
    pub deny: String,
    pub allow: String,
    pub responses: String,
    pub quantiles: [String; 3],
}

pub(crate) fn authz_queries(query: &Query) -> AuthzQueries {
    let selector = selector(
        query.namespace.as_deref(),
        query.resource,
        query.name.as_deref(),
    );
    let inbound = inbound_family_selector(
        query.namespace.as_deref(),
        query.resource,
        query.name.as_deref(),
    );
    let range = promql_range(query.window);
    let by = "srv_kind, srv_name, route_name";
    AuthzQueries {
        deny: format!(
            "sum(increase(inbound_http_authz_deny_total{inbound}[{range}])) by ({by}, plugin_version)"
        ),
        allow: format!(
            "sum(increase(inbound_http_authz_allow_total{inbound}[{range}])) by ({by}, authz_kind, authz_name, plugin_version)"
        ),
        responses: format!(
            "sum(increase(response_total{selector}[{range}])) by ({by}, classification)"
        ),
        quantiles: QUANTILES.map(|q| {
            format!(
                "histogram_quantile({q}, sum(irate(response_latency_ms_bucket{selector}[{range}])) by (le, {by}))"
            )
        }),
    }
}

/// A small client of Prometheus' HTTP API (plain HTTP: Prometheus is
/// reached inside the cluster or through a port-forward).
struct Prometheus {
    base: String,
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Prometheus {
    fn new(url: &str) -> Result<Self, VizError> {
        let base = url.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") {
            return Err(VizError::Prometheus {
                url: url.to_owned(),
                fault: QueryError::NotHttp,
            });
        }
        Ok(Prometheus {
            base,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// Runs an instant query and returns its vector.
    async fn query(&self, promql: &str) -> Result<Vec<VectorSample>, VizError> {
        let url = format!(
            "{}/api/v1/query?query={}",
            self.base,
            percent_encode(promql)
        );
        tracing::debug!(%promql, "querying prometheus");
        self.exchange(&url)
            .await
            .map_err(|fault| VizError::Prometheus { url, fault })
    }

    /// One GET of `url`, read as an instant vector.
    async fn exchange(&self, url: &str) -> Result<Vec<VectorSample>, QueryError> {
        let uri: http::Uri = url.parse().map_err(QueryError::Url)?;
        let request = http::Request::get(uri)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(QueryError::Request)?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(QueryError::Send)?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(QueryError::Body)?
                .to_bytes();
            Ok::<_, QueryError>((status, body))
        };
        let (status, body) = tokio::time::timeout(QUERY_TIMEOUT, exchange)
            .await
            .map_err(|_| QueryError::Timeout(QUERY_TIMEOUT))??;
        match parse_vector(&body) {
            Ok(vector) if status.is_success() => Ok(vector),
            Ok(_) => Err(QueryError::Status(status)),
            Err(source) if status.is_success() => Err(QueryError::Response(source)),
            Err(source) => Err(QueryError::StatusResponse { status, source }),
        }
    }
}

/// Percent-encodes a query parameter (everything but unreserved bytes).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `viz stat` from Prometheus: the rows of `pods` (Prometheus knows no
/// deployment without traffic, nor unmeshed pods), with the traffic of
/// each from Linkerd's queries. As in Linkerd's viz, response counts are
/// `increase` over the window rounded to whole requests, RPS is their sum
/// over the window's length, and quantiles use `irate` (the last two
/// scrapes of the window); with steady traffic these equal the kept-scrape
/// computation, which uses the whole window. `viz stat svc` takes its rows
/// from [`service_stat_from_prometheus`] instead.
pub async fn stat_from_prometheus(
    prometheus_url: &str,
    query: &Query,
    pods: &[PodInfo],
) -> Result<Vec<StatRow>, VizError> {
    let mut rows = skeletons(query, pods.iter().map(PodRef::of_info));
    let label = query.resource.label();
    let key = |s: &VectorSample| (s.label("namespace").to_owned(), s.label(label).to_owned());
    fill_from_prometheus(prometheus_url, query, key, &mut rows).await?;
    Ok(finish(rows))
}

/// `viz stat svc` from Prometheus: one row per Service of `services` the
/// query selects, with what meshed clients sent to it.
pub async fn service_stat_from_prometheus(
    prometheus_url: &str,
    query: &Query,
    services: &[ServiceRef],
) -> Result<Vec<StatRow>, VizError> {
    let mut rows = service_rows(query, services);
    let key = |s: &VectorSample| {
        (
            s.label("dst_namespace").to_owned(),
            s.label("dst_service").to_owned(),
        )
    };
    fill_from_prometheus(prometheus_url, query, key, &mut rows).await?;
    Ok(rows.into_values().collect())
}

/// Runs the queries of `query` and gives each row of `rows` (keyed as
/// `key` keys a series) the traffic of its series.
async fn fill_from_prometheus(
    prometheus_url: &str,
    query: &Query,
    key: impl Fn(&VectorSample) -> (String, String),
    rows: &mut BTreeMap<(String, String), StatRow>,
) -> Result<(), VizError> {
    let prometheus = Prometheus::new(prometheus_url)?;
    let queries = stat_queries(query);
    let mut counts: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for sample in prometheus.query(&queries.responses).await? {
        let entry = counts.entry(key(&sample)).or_default();
        match sample.label("classification") {
            "success" => entry.0 += whole(sample.value),
            "failure" => entry.1 += whole(sample.value),
            _ => {}
        }
    }
    let mut quantiles: BTreeMap<(String, String), [u64; 3]> = BTreeMap::new();
    for (i, promql) in queries.quantiles.iter().enumerate() {
        for sample in prometheus.query(promql).await? {
            quantiles.entry(key(&sample)).or_default()[i] = latency_ms(sample.value);
        }
    }
    let mut tcp_open: BTreeMap<(String, String), f64> = BTreeMap::new();
    for sample in prometheus.query(&queries.tcp_open).await? {
        *tcp_open.entry(key(&sample)).or_default() += sample.value;
    }
    let mut bytes: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for sample in prometheus.query(&queries.read_bytes).await? {
        bytes.entry(key(&sample)).or_default().0 += finite(sample.value);
    }
    for sample in prometheus.query(&queries.write_bytes).await? {
        bytes.entry(key(&sample)).or_default().1 += finite(sample.value);
    }

    let seconds = query.window.as_secs_f64();
    for (key, (success, failure)) in counts {
        let Some(row) = rows.get_mut(&key) else {
            continue;
        };
        if success + failure <= 0.0 {
            continue;
        }
        let [p50, p95, p99] = quantiles.get(&key).copied().unwrap_or_default();
        let (read, write) = bytes.get(&key).copied().unwrap_or_default();
        row.stats = Some(TrafficStats {
            success_rate: success_rate(success, failure),
            request_rate: per_second(success + failure, seconds),
            latency_ms_p50: p50,
            latency_ms_p95: p95,
            latency_ms_p99: p99,
            tcp_open_connections: gauge(tcp_open.get(&key).copied().unwrap_or_default()),
            tcp_read_bytes_rate: per_second(read, seconds),
            tcp_write_bytes_rate: per_second(write, seconds),
        });
    }
    Ok(())
}

/// `viz authz` from Prometheus: deny and allow counters' increases over the
/// window (rates over its length), response counts and `irate` latency
/// quantiles by server and route; see the module `authz` for why responses
/// are keyed by server and route only.
pub async fn authz_from_prometheus(
    prometheus_url: &str,
    query: &Query,
) -> Result<Vec<AuthzRow>, VizError> {
    let prometheus = Prometheus::new(prometheus_url)?;
    let queries = authz_queries(query);
    let seconds = query.window.as_secs_f64();
    let mut data = AuthzData::default();
    for sample in prometheus.query(&queries.deny).await? {
        let key = srv_route(&sample.labels);
        let count = whole(sample.value);
        data.deny_version(&key, plugin_version(&sample.labels), count);
        *data.deny.entry(key).or_default() += per_second(count, seconds);
    }
    for sample in prometheus.query(&queries.allow).await? {
        let key = (srv_route(&sample.labels), authz_ref(&sample.labels));
        let count = whole(sample.value);
        data.allow_version(&key, plugin_version(&sample.labels), count);
        *data.allow.entry(key).or_default() += per_second(count, seconds);
    }
    for sample in prometheus.query(&queries.responses).await? {
        let counts = data.responses.entry(srv_route(&sample.labels)).or_default();
        match sample.label("classification") {
            "success" => counts.0 += whole(sample.value),
            "failure" => counts.1 += whole(sample.value),
            _ => {}
        }
    }
    for (i, promql) in queries.quantiles.iter().enumerate() {
        for sample in prometheus.query(promql).await? {
            data.latencies.entry(srv_route(&sample.labels)).or_default()[i] =
                latency_ms(sample.value);
        }
    }
    Ok(data.rows())
}

/// An `increase` as Linkerd's viz reads it: rounded to a whole count, 0
/// when undefined.
fn whole(value: f64) -> f64 {
    finite(value).round()
}

fn finite(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value
    } else {
        0.0
    }
}

fn per_second(count: f64, seconds: f64) -> f64 {
    if seconds > 0.0 { count / seconds } else { 0.0 }
}

#[cfg(test)]
mod tests;
