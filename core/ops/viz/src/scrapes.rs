//! Counter increases between the two scrapes bounding a window, as
//! Prometheus' `increase` computes them from two samples.

use std::collections::{BTreeMap, HashMap};

use crate::{PodInfo, PodScrapes, ResourceKind, Sample, Scrape};

/// The label every series `viz` reads carries on the proxy's own side.
pub(crate) const DIRECTION: &str = "direction";
/// The side of the proxy `viz stat` and `viz authz` report.
pub(crate) const INBOUND: &str = "inbound";
/// The side where clients' proxies count what they sent to a Service.
pub(crate) const OUTBOUND: &str = "outbound";

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
        self.increases_on(name, INBOUND)
    }

    /// [`PodWindow::increases`] of the series on the `direction` side.
    pub fn increases_on(
        &self,
        name: &'a str,
        direction: &'a str,
    ) -> impl Iterator<Item = (&'a Sample, f64)> + '_ {
        of_direction(self.last, name, direction).map(move |sample| {
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
    of_direction(scrape, name, INBOUND)
}

/// The samples named `name` of a scrape on the `direction` side.
/// Whether `sample` is traffic of the `direction` side: its `direction`
/// label says so, or it has none and its family is named for the side
/// (`inbound_http_authz_*`), as Linkerd's proxy writes those families.
fn on_side(sample: &Sample, direction: &str) -> bool {
    match sample.label(DIRECTION) {
        "" => sample
            .name
            .strip_prefix(direction)
            .is_some_and(|rest| rest.starts_with('_')),
        side => side == direction,
    }
}

pub(crate) fn of_direction<'a>(
    scrape: &'a Scrape,
    name: &'a str,
    direction: &'a str,
) -> impl Iterator<Item = &'a Sample> {
    scrape
        .samples
        .iter()
        .filter(move |s| s.name == name && on_side(s, direction))
}

/// What the rows of a query need to know of one pod: where it is, what
/// owns it, and the MESHED and STATUS columns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PodRef<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub deployment: Option<&'a str>,
    pub replicaset: Option<&'a str>,
    pub statefulset: Option<&'a str>,
    pub meshed: bool,
    pub ready: bool,
}

impl<'a> PodRef<'a> {
    /// A pod of kept scrapes.
    pub fn of_scrapes(pod: &'a PodScrapes) -> Self {
        PodRef {
            namespace: &pod.namespace,
            pod: &pod.pod,
            deployment: pod.deployment.as_deref(),
            replicaset: pod.replicaset.as_deref(),
            statefulset: pod.statefulset.as_deref(),
            meshed: pod.meshed,
            ready: pod.ready,
        }
    }

    /// A pod as the cluster lists it.
    pub fn of_info(pod: &'a PodInfo) -> Self {
        PodRef {
            namespace: &pod.namespace,
            pod: &pod.name,
            deployment: pod.deployment.as_deref(),
            replicaset: pod.replicaset.as_deref(),
            statefulset: pod.statefulset.as_deref(),
            meshed: pod.meshed,
            ready: pod.ready,
        }
    }
}

/// Which row a pod belongs to for a query: `(namespace, name)` of its
/// workload of the query's kind, of its namespace or of itself, or `None`
/// when the query leaves it out (a Service's rows come from Services, not
/// from pods).
pub(crate) fn row_key(
    namespace: Option<&str>,
    kind: ResourceKind,
    name: Option<&str>,
    pod: &PodRef<'_>,
) -> Option<(String, String)> {
    if namespace.is_some_and(|ns| ns != pod.namespace) {
        return None;
    }
    let row = match kind {
        ResourceKind::Deployment => pod.deployment,
        ResourceKind::ReplicaSet => pod.replicaset,
        ResourceKind::StatefulSet => pod.statefulset,
        ResourceKind::Pod => Some(pod.pod),
        ResourceKind::Namespace => Some(pod.namespace),
        ResourceKind::Service => None,
    }
    .filter(|r| !r.is_empty())?;
    if name.is_some_and(|n| n != row) {
        return None;
    }
    Some((pod.namespace.to_owned(), row.to_owned()))
}

/// The `le` bound of a bucket sample (`"1"`, `"1.0"`, `"+Inf"`).
pub(crate) fn bucket_bound(sample: &Sample) -> Option<f64> {
    crate::parse::parse_value(sample.label("le"))
}
