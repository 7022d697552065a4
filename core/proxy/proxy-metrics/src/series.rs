//! The series of one stream of requests, looked up once and reused.

use std::sync::OnceLock;

use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use crate::{LabelSet, ProxyMetrics, SeriesLease};

/// The request and response series that share one label set (an endpoint's
/// outbound traffic, a route's inbound traffic on one connection). Building
/// a label set and hashing it to find its series costs more than the
/// increment itself; a proxy forwarding tens of thousands of requests a
/// second looks each series up once, here, and then only increments it.
///
/// It holds its series ([`SeriesLease`]) from the first value recorded
/// until it is dropped: one made and never counted into (a refused
/// request's) tracks nothing.
#[derive(Debug)]
pub struct RequestSeries {
    metrics: ProxyMetrics,
    labels: LabelSet,
    lease: OnceLock<SeriesLease>,
    request_total: OnceLock<Counter>,
    by_status: Mutex<Vec<StatusSeries>>,
}

/// The series of one status code: its latency histogram, and its response
/// counters by classification (made when first counted).
#[derive(Debug)]
struct StatusSeries {
    status: u16,
    latency_ms: Histogram,
    success: Option<Counter>,
    failure: Option<Counter>,
}

impl RequestSeries {
    /// The series labelled `labels` in `metrics`.
    pub fn new(metrics: &ProxyMetrics, labels: LabelSet) -> Self {
        RequestSeries {
            metrics: metrics.clone(),
            labels,
            lease: OnceLock::new(),
            request_total: OnceLock::new(),
            by_status: Mutex::new(Vec::new()),
        }
    }

    /// The labels every series here carries.
    pub fn labels(&self) -> &LabelSet {
        &self.labels
    }

    /// The hold on these series (and on any other family's series with
    /// the same labels, such as an endpoint's TCP series), taken now if it
    /// was not.
    pub fn lease(&self) -> &SeriesLease {
        self.lease
            .get_or_init(|| self.metrics.lease(self.labels.clone()))
    }

    /// Counts a request in `request_total` (the series appears with the
    /// first request, not before).
    pub fn request(&self) {
        self.request_total
            .get_or_init(|| self.lease().metric(&self.metrics.request_total))
            .inc();
    }

    /// Records `latency_ms` in `response_latency_ms` for a response with
    /// `status`.
    pub fn latency(&self, status: u16, latency_ms: f64) {
        self.with_status(status, |series| series.latency_ms.observe(latency_ms));
    }

    /// Counts a response with `status` in `response_total`, classified as
    /// a success or a failure.
    pub fn response(&self, status: u16, success: bool) {
        self.with_status(status, |series| {
            let (slot, classification) = if success {
                (&mut series.success, "success")
            } else {
                (&mut series.failure, "failure")
            };
            let counter = slot.get_or_insert_with(|| {
                let mut extra = status_label(status);
                extra.push(("classification".to_string(), classification.to_string()));
                self.lease()
                    .metric_with(&self.metrics.response_total, extra)
            });
            counter.inc();
        });
    }

    fn with_status(&self, status: u16, record: impl FnOnce(&mut StatusSeries)) {
        let mut by_status = self.by_status.lock();
        let index = match by_status.iter().position(|s| s.status == status) {
            Some(index) => index,
            None => {
                let latency_ms = self
                    .lease()
                    .metric_with(&self.metrics.response_latency_ms, status_label(status));
                by_status.push(StatusSeries {
                    status,
                    latency_ms,
                    success: None,
                    failure: None,
                });
                by_status.len() - 1
            }
        };
        if let Some(series) = by_status.get_mut(index) {
            record(series);
        }
    }
}

/// The label a status code adds.
fn status_label(status: u16) -> LabelSet {
    vec![("status_code".to_string(), status.to_string())]
}

#[cfg(test)]
mod tests;
