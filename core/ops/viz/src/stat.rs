//! `viz stat`: per deployment or pod, the success rate, request rate,
//! latency quantiles and open connections of inbound traffic.

use std::collections::BTreeMap;

use crate::quantile::{histogram_quantile, latency_ms};
use crate::scrapes::{PodRef, PodWindow, bucket_bound, inbound, row_key};
use crate::{PodScrapes, Query, ResourceKind};

/// One row of `viz stat`: a deployment or a pod, its meshed pods, and its
/// traffic if the proxies reported any.
#[derive(Clone, Debug, PartialEq)]
pub struct StatRow {
    /// The resource's namespace.
    pub namespace: String,
    /// Deployment or pod.
    pub kind: ResourceKind,
    /// The resource's name.
    pub name: String,
    /// Pods running a proxy (the left of MESHED).
    pub meshed_pods: u32,
    /// All pods (the right of MESHED).
    pub total_pods: u32,
    /// For pod rows, the pod's status (`Running` when ready, `NotReady`
    /// otherwise), shown in the STATUS column as Linkerd does for pods.
    pub status: Option<String>,
    /// The traffic, or `None` when the proxies reported no inbound
    /// response in the window (printed as `-`, as Linkerd prints rows
    /// without request data).
    pub stats: Option<TrafficStats>,
}

impl StatRow {
    /// MESHED as printed: `meshed/total`, or `-` for a Service, which runs
    /// no pods of its own.
    pub fn meshed(&self) -> String {
        if self.kind == ResourceKind::Service {
            return "-".to_owned();
        }
        format!("{}/{}", self.meshed_pods, self.total_pods)
    }
}

/// The traffic columns of a `viz stat` row.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficStats {
    /// Successful responses over all responses, 0 to 1 (0 without
    /// responses, as Linkerd prints `0.00%`).
    pub success_rate: f64,
    /// Responses per second.
    pub request_rate: f64,
    /// Median latency, in whole milliseconds.
    pub latency_ms_p50: u64,
    /// 95th percentile latency, in whole milliseconds.
    pub latency_ms_p95: u64,
    /// 99th percentile latency, in whole milliseconds.
    pub latency_ms_p99: u64,
    /// Inbound connections open at the newest scrape.
    pub tcp_open_connections: u64,
    /// Bytes read per second from inbound connections (`-o wide`).
    pub tcp_read_bytes_rate: f64,
    /// Bytes written per second to inbound connections (`-o wide`).
    pub tcp_write_bytes_rate: f64,
}

/// Success over success and failure, 0 when there is neither, as
/// Linkerd's viz computes it.
pub(crate) fn success_rate(success: f64, failure: f64) -> f64 {
    let total = success + failure;
    if total > 0.0 { success / total } else { 0.0 }
}

/// The row skeletons of a query: one per workload (deployment,
/// ReplicaSet, StatefulSet), namespace or pod having a pod the query
/// selects, with its MESHED counts and no traffic yet. Rows come from the
/// pods, not from the metrics, as Linkerd lists the resources it finds in
/// the cluster; [`finish`] then drops those without a meshed pod.
pub(crate) fn skeletons<'a>(
    query: &Query,
    pods: impl Iterator<Item = PodRef<'a>>,
) -> BTreeMap<(String, String), StatRow> {
    let mut rows = BTreeMap::new();
    for pod in pods {
        let Some(key) = row_key(
            query.namespace.as_deref(),
            query.resource,
            query.name.as_deref(),
            &pod,
        ) else {
            continue;
        };
        let row = rows.entry(key.clone()).or_insert_with(|| StatRow {
            namespace: key.0,
            kind: query.resource,
            name: key.1,
            meshed_pods: 0,
            total_pods: 0,
            status: None,
            stats: None,
        });
        row.total_pods += 1;
        row.meshed_pods += u32::from(pod.meshed);
        if query.resource == ResourceKind::Pod {
            row.status = Some(if pod.ready { "Running" } else { "NotReady" }.to_owned());
        }
    }
    rows
}

/// The rows in order (namespace, then name), without the resources that
/// have no meshed pod: Linkerd's viz hides those unless `--unmeshed`, and
/// they have no proxy to report traffic anyway.
pub(crate) fn finish(rows: BTreeMap<(String, String), StatRow>) -> Vec<StatRow> {
    rows.into_values().filter(|r| r.meshed_pods > 0).collect()
}

/// A row's traffic summed over the windows of its pods.
#[derive(Default)]
pub(crate) struct Totals {
    pub success: f64,
    pub failure: f64,
    pub request_rate: f64,
    pub buckets: Vec<(f64, f64)>,
    pub tcp_open: f64,
    pub read_rate: f64,
    pub write_rate: f64,
}

impl Totals {
    /// The traffic columns, or `None` when no response was counted.
    pub fn traffic(&self) -> Option<TrafficStats> {
        if self.success + self.failure <= 0.0 {
            return None;
        }
        let quantile = |q| latency_ms(histogram_quantile(q, &self.buckets));
        Some(TrafficStats {
            success_rate: success_rate(self.success, self.failure),
            request_rate: self.request_rate,
            latency_ms_p50: quantile(0.5),
            latency_ms_p95: quantile(0.95),
            latency_ms_p99: quantile(0.99),
            tcp_open_connections: gauge(self.tcp_open),
            tcp_read_bytes_rate: self.read_rate,
            tcp_write_bytes_rate: self.write_rate,
        })
    }
}

/// `viz stat` (of workloads, namespaces and pods) from kept scrapes: per row, the increases between the oldest
/// and the newest scrape of each of its pods in the window, summed over
/// pods. Rates divide each pod's increases by the time between its two
/// scrapes; quantiles use the summed bucket increases of
/// `response_latency_ms`. A row has traffic when its pods answered at
/// least one request in the window. Rows are sorted by namespace, then
/// name; resources without a meshed pod are left out.
pub fn stat_from_scrapes(query: &Query, pods: &[PodScrapes]) -> Vec<StatRow> {
    let mut rows = skeletons(query, pods.iter().map(PodRef::of_scrapes));
    let mut totals: BTreeMap<(String, String), Totals> = BTreeMap::new();
    for pod in pods {
        let Some(key) = row_key(
            query.namespace.as_deref(),
            query.resource,
            query.name.as_deref(),
            &PodRef::of_scrapes(pod),
        ) else {
            continue;
        };
        let Some(window) = PodWindow::new(pod) else {
            continue;
        };
        let totals = totals.entry(key).or_default();
        let mut responses = 0.0;
        for (sample, increase) in window.increases("response_total") {
            responses += increase;
            match sample.label("classification") {
                "success" => totals.success += increase,
                "failure" => totals.failure += increase,
                _ => {}
            }
        }
        totals.request_rate += responses / window.span;
        for (sample, increase) in window.increases("response_latency_ms_bucket") {
            if let Some(le) = bucket_bound(sample) {
                totals.buckets.push((le, increase));
            }
        }
        totals.tcp_open += inbound(window.last, "tcp_open_connections")
            .map(|s| s.value)
            .sum::<f64>();
        totals.read_rate += window
            .increases("tcp_read_bytes_total")
            .map(|(_, i)| i)
            .sum::<f64>()
            / window.span;
        totals.write_rate += window
            .increases("tcp_write_bytes_total")
            .map(|(_, i)| i)
            .sum::<f64>()
            / window.span;
    }
    for (key, totals) in totals {
        if let Some(row) = rows.get_mut(&key) {
            row.stats = totals.traffic();
        }
    }
    finish(rows)
}

/// A gauge as a whole count, rounded as Linkerd rounds sample values.
pub(crate) fn gauge(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests;
