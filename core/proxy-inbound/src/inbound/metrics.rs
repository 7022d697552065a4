//! Recording into the shared proxy metric families, with labels in a fixed
//! order so every series keeps its identity:
//! `direction, [authority,] target_addr, tls, client_id|no_tls_reason,
//! srv_group, srv_kind, srv_name, [route_*,] [authz_*,] [status_code,
//! classification]`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use strait_decisions::authz::ResourceRef;
use strait_proxy_metrics::{Labels, ProxyMetrics, Tls};

use super::Connection;

/// Errors of response bodies, whatever produced them.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response the proxy sends.
pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// The connection-level series: opened on creation, closed on drop.
pub(crate) struct ConnectionMetrics {
    close: Counter,
    open: Gauge,
    read: Counter,
    written: Counter,
}

/// `direction, target_addr, tls..., srv_*`: the labels of connection-level
/// series.
pub(crate) fn connection_labels(connection: &Connection, server: &ResourceRef) -> Labels {
    Labels::inbound()
        .with("target_addr", connection.target.to_string())
        .with_tls(&Tls::from(&connection.client.tls))
        .with_resource("srv", server)
}

impl ConnectionMetrics {
    pub(crate) fn open(
        metrics: &ProxyMetrics,
        connection: &Connection,
        server: &ResourceRef,
    ) -> Self {
        let labels = connection_labels(connection, server).build();
        metrics.tcp_open_total.get_or_create(&labels).inc();
        let open = Gauge::clone(&metrics.tcp_open_connections.get_or_create(&labels));
        open.inc();
        ConnectionMetrics {
            close: Counter::clone(&metrics.tcp_close_total.get_or_create(&labels)),
            open,
            read: Counter::clone(&metrics.tcp_read_bytes_total.get_or_create(&labels)),
            written: Counter::clone(&metrics.tcp_write_bytes_total.get_or_create(&labels)),
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
pub(crate) fn request_labels(
    connection: &Connection,
    authority: &str,
    server: &ResourceRef,
    route: &ResourceRef,
) -> Labels {
    Labels::inbound()
        .with("authority", authority)
        .with("target_addr", connection.target.to_string())
        .with_tls(&Tls::from(&connection.client.tls))
        .with_resource("srv", server)
        .with_resource("route", route)
}

/// Records one response: `response_latency_ms` when its headers are
/// known, `response_total` once its classification is (at the headers, or
/// for gRPC at the trailers carrying `grpc-status`).
pub(crate) struct ResponseRecorder {
    metrics: ProxyMetrics,
    labels: Labels,
    started: Instant,
}

impl ResponseRecorder {
    pub(crate) fn new(metrics: &ProxyMetrics, labels: Labels, started: Instant) -> Self {
        ResponseRecorder {
            metrics: metrics.clone(),
            labels,
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
        let code = status.as_u16().to_string();
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1_000.0;
        self.metrics
            .response_latency_ms
            .get_or_create(
                &self
                    .labels
                    .clone()
                    .with("status_code", code.as_str())
                    .build(),
            )
            .observe(elapsed_ms);
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

    fn count(self, code: String, success: bool) {
        let labels = self
            .labels
            .with("status_code", code)
            .with(
                "classification",
                if success { "success" } else { "failure" },
            )
            .build();
        self.metrics.response_total.get_or_create(&labels).inc();
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
    code: String,
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
