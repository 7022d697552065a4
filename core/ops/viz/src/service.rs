//! `viz stat svc`: per Service, what meshed clients sent to it, from their
//! proxies' outbound series (labelled by the destination with
//! `dst_namespace` and `dst_service`), as Linkerd's viz reports Services.
//! A Service's rows come from the Services of the cluster, not from the
//! pods: every one the query selects is listed, with or without traffic.

use std::collections::BTreeMap;

use crate::scrapes::{OUTBOUND, PodWindow, bucket_bound, of_direction};
use crate::stat::Totals;
use crate::{PodScrapes, Query, ResourceKind, Sample, StatRow};

/// A Service of the cluster, for `viz stat svc`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// The rows of `services` the query selects, without traffic yet.
pub(crate) fn service_rows(
    query: &Query,
    services: &[ServiceRef],
) -> BTreeMap<(String, String), StatRow> {
    services
        .iter()
        .filter(|s| {
            query
                .namespace
                .as_deref()
                .is_none_or(|ns| ns == s.namespace)
        })
        .filter(|s| query.name.as_deref().is_none_or(|n| n == s.name))
        .map(|s| {
            let row = StatRow {
                namespace: s.namespace.clone(),
                kind: ResourceKind::Service,
                name: s.name.clone(),
                meshed_pods: 0,
                total_pods: 0,
                status: None,
                stats: None,
            };
            ((s.namespace.clone(), s.name.clone()), row)
        })
        .collect()
}

/// The Service an outbound series was sent to.
fn destination(sample: &Sample) -> (String, String) {
    (
        sample.label("dst_namespace").to_owned(),
        sample.label("dst_service").to_owned(),
    )
}

/// `viz stat svc` from kept scrapes: for each selected Service, the
/// increases of the outbound series naming it, over the windows of every
/// pod that sent to it (rates divide each pod's increases by the time
/// between its scrapes). Sorted by namespace, then name.
pub fn service_stat_from_scrapes(
    query: &Query,
    services: &[ServiceRef],
    pods: &[PodScrapes],
) -> Vec<StatRow> {
    let mut rows = service_rows(query, services);
    let mut totals: BTreeMap<(String, String), Totals> = BTreeMap::new();
    for pod in pods {
        let Some(window) = PodWindow::new(pod) else {
            continue;
        };
        let mut responses: BTreeMap<(String, String), f64> = BTreeMap::new();
        let mut read: BTreeMap<(String, String), f64> = BTreeMap::new();
        let mut write: BTreeMap<(String, String), f64> = BTreeMap::new();
        let selected = |sample: &Sample| {
            let key = destination(sample);
            rows.contains_key(&key).then_some(key)
        };
        for (sample, increase) in window.increases_on("response_total", OUTBOUND) {
            let Some(key) = selected(sample) else {
                continue;
            };
            *responses.entry(key.clone()).or_default() += increase;
            let totals = totals.entry(key).or_default();
            match sample.label("classification") {
                "success" => totals.success += increase,
                "failure" => totals.failure += increase,
                _ => {}
            }
        }
        for (sample, increase) in window.increases_on("response_latency_ms_bucket", OUTBOUND) {
            if let (Some(key), Some(le)) = (selected(sample), bucket_bound(sample)) {
                totals.entry(key).or_default().buckets.push((le, increase));
            }
        }
        for sample in of_direction(window.last, "tcp_open_connections", OUTBOUND) {
            if let Some(key) = selected(sample) {
                totals.entry(key).or_default().tcp_open += sample.value;
            }
        }
        for (sample, increase) in window.increases_on("tcp_read_bytes_total", OUTBOUND) {
            if let Some(key) = selected(sample) {
                *read.entry(key).or_default() += increase;
            }
        }
        for (sample, increase) in window.increases_on("tcp_write_bytes_total", OUTBOUND) {
            if let Some(key) = selected(sample) {
                *write.entry(key).or_default() += increase;
            }
        }
        for (key, count) in responses {
            totals.entry(key).or_default().request_rate += count / window.span;
        }
        for (key, bytes) in read {
            totals.entry(key).or_default().read_rate += bytes / window.span;
        }
        for (key, bytes) in write {
            totals.entry(key).or_default().write_rate += bytes / window.span;
        }
    }
    for (key, totals) in totals {
        if let Some(row) = rows.get_mut(&key) {
            row.stats = totals.traffic();
        }
    }
    rows.into_values().collect()
}

#[cfg(test)]
mod tests;
