//! Counter increases between the two scrapes bounding a window, as
//! Prometheus' `increase` computes them from two samples.

use std::collections::{BTreeMap, HashMap};

use crate::{PodScrapes, ResourceKind, Sample, Scrape};

/// The label every series `viz` reads carries on the proxy's own side.
pub(crate) const DIRECTION: &str = "direction";
/// The side of the proxy `viz stat` and `viz authz` report.
pub(crate) const INBOUND: &str = "inbound";

/// One pod's two scrapes, indexed for increases. A pod with fewer than
/// two distinct scrapes in the window has no rates, as Prometheus'
/// `increase` gives nothing for a single sample.
pub(crate) struct PodWindow<'a> {
    /// Seconds between the two scrapes.
    pub span: f64,
    first: HashMap<(&'a str, &'a BTreeMap<String, String>), f64>,
    /// The newest scrape.
    pub last: &'a Scrape,
}

impl<'a> PodWindow<'a> {
    /// The window of `pod`, or `None` when it has no rate to give.
    pub fn new(pod: &'a PodScrapes) -> Option<Self> {
        let (first, last) = (pod.first.as_ref()?, pod.last.as_ref()?);
        let span = last.at.duration_since(first.at).ok()?.as_secs_f64();
        if span <= 0.0 {
            return None;
        }
        let first = first
            .samples
            .iter()
            .map(|s| ((s.name.as_str(), &s.labels), s.value))
            .collect();
        Some(PodWindow { span, first, last })
    }

    /// The inbound series named `name` in the newest scrape, each with its
    /// increase over the window. A counter lower than before was reset (the
    /// proxy restarted) and counts from 0, as in Prometheus' `increase`; a
    /// series absent from the oldest scrape also counts from 0. No
    /// extrapolation to the window's edges: the increase is the one
    /// between the two scrapes, and rates divide it by [`PodWindow::span`].
    pub fn increases(&self, name: &'a str) -> impl Iterator<Item = (&'a Sample, f64)> + '_ {
        inbound(self.last, name).map(move |sample| {
            let before = self
                .first
                .get(&(sample.name.as_str(), &sample.labels))
                .copied()
                .unwrap_or(0.0);
            (sample, counter_increase(before, sample.value))
        })
    }
}

/// The increase of a counter from `before` to `after`, a decrease meaning
/// a reset to 0 in between.
pub(crate) fn counter_increase(before: f64, after: f64) -> f64 {
    if after >= before {
        after - before
    } else {
        after
    }
}

/// The inbound samples named `name` of a scrape.
pub(crate) fn inbound<'a>(scrape: &'a Scrape, name: &'a str) -> impl Iterator<Item = &'a Sample> {
    scrape
        .samples
        .iter()
        .filter(move |s| s.name == name && s.label(DIRECTION) == INBOUND)
}

/// Which row a pod belongs to for a query: `(namespace, name)` of its
/// deployment or of itself, or `None` when the query leaves it out.
pub(crate) fn row_key(
    namespace: Option<&str>,
    kind: ResourceKind,
    name: Option<&str>,
    pod_namespace: &str,
    pod: &str,
    deployment: Option<&str>,
) -> Option<(String, String)> {
    if namespace.is_some_and(|ns| ns != pod_namespace) {
        return None;
    }
    let row = match kind {
        ResourceKind::Deployment => deployment.filter(|d| !d.is_empty())?,
        ResourceKind::Pod => pod,
    };
    if name.is_some_and(|n| n != row) {
        return None;
    }
    Some((pod_namespace.to_owned(), row.to_owned()))
}

/// The `le` bound of a bucket sample (`"1"`, `"1.0"`, `"+Inf"`).
pub(crate) fn bucket_bound(sample: &Sample) -> Option<f64> {
    crate::parse::parse_value(sample.label("le"))
}
