//! Kept scrapes of each proxy, for the embedded runtime where no
//! Prometheus keeps them.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, SystemTime};

use crate::Sample;

/// One scrape of a proxy's `/metrics`: when it was taken and what it read.
/// Rates are the difference between two scrapes divided by the time
/// between them, so the time is the scraper's, taken when the answer came.
#[derive(Clone, Debug, PartialEq)]
pub struct Scrape {
    /// When the scrape was taken.
    pub at: SystemTime,
    /// Its samples, as [`crate::parse_metrics`] read them.
    pub samples: Vec<Sample>,
}

/// A pod's identity in a [`History`]: its namespace and name, which is all
/// that stays the same across its scrapes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PodKey {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
}

impl PodKey {
    /// The key of pod `pod` in `namespace`.
    pub fn new(namespace: impl Into<String>, pod: impl Into<String>) -> Self {
        PodKey {
            namespace: namespace.into(),
            pod: pod.into(),
        }
    }
}

/// What `viz` needs to know of one pod for the direct computation: who it
/// is (for grouping and the MESHED column) and the two scrapes bounding the
/// window (`first` the oldest inside it, `last` the newest). A pod that
/// was never scraped (unmeshed, or just started) has neither and still
/// counts in MESHED.
#[derive(Clone, Debug, PartialEq)]
pub struct PodScrapes {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The deployment the pod belongs to, if any.
    pub deployment: Option<String>,
    /// The ReplicaSet that controls the pod, if any.
    pub replicaset: Option<String>,
    /// The StatefulSet that controls the pod, if any.
    pub statefulset: Option<String>,
    /// Whether the pod runs a strait proxy.
    pub meshed: bool,
    /// Whether the pod is ready (its STATUS in `viz stat po`).
    pub ready: bool,
    /// The oldest scrape inside the window.
    pub first: Option<Scrape>,
    /// The newest scrape.
    pub last: Option<Scrape>,
}

/// Per pod, the scrapes of the last `keep`, oldest first, so that any
/// window up to `keep` can be answered from memory. Pushing prunes; pods
/// no longer scraped are dropped with [`History::remove`] or
/// [`History::prune`].
#[derive(Clone, Debug)]
pub struct History {
    keep: Duration,
    pods: BTreeMap<PodKey, VecDeque<Scrape>>,
}

impl History {
    /// An empty history keeping scrapes for `keep` (e.g. ten minutes,
    /// the longest window one may ask for).
    pub fn new(keep: Duration) -> Self {
        History {
            keep,
            pods: BTreeMap::new(),
        }
    }

    /// How long scrapes are kept.
    pub fn keep(&self) -> Duration {
        self.keep
    }

    /// Adds a scrape of `pod` and drops its scrapes older than `keep`
    /// before this one. A scrape older than the newest kept one (a clock
    /// step back) replaces the pod's scrapes, since rates across it would
    /// be meaningless.
    pub fn push(&mut self, pod: PodKey, scrape: Scrape) {
        let ring = self.pods.entry(pod).or_default();
        if ring.back().is_some_and(|newest| newest.at > scrape.at) {
            ring.clear();
        }
        let at = scrape.at;
        ring.push_back(scrape);
        while ring
            .front()
            .is_some_and(|oldest| at.duration_since(oldest.at).unwrap_or_default() > self.keep)
        {
            ring.pop_front();
        }
    }

    /// The oldest and the newest scrape of `pod` taken within `window`
    /// before now; see [`History::window_at`].
    pub fn window(&self, pod: &PodKey, window: Duration) -> (Option<Scrape>, Option<Scrape>) {
        self.window_at(pod, window, SystemTime::now())
    }

    /// The oldest and the newest scrape of `pod` taken in
    /// `[now - window, now]`: the two scrapes a rate over the window is
    /// computed from. Both are `None` when no scrape falls in the window;
    /// they are the same scrape when only one does.
    pub fn window_at(
        &self,
        pod: &PodKey,
        window: Duration,
        now: SystemTime,
    ) -> (Option<Scrape>, Option<Scrape>) {
        let Some(ring) = self.pods.get(pod) else {
            return (None, None);
        };
        let start = now.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
        let first = ring.iter().find(|s| s.at >= start && s.at <= now).cloned();
        let last = ring
            .iter()
            .rev()
            .find(|s| s.at >= start && s.at <= now)
            .cloned();
        (first, last)
    }

    /// The pods with kept scrapes.
    pub fn pods(&self) -> impl Iterator<Item = &PodKey> {
        self.pods.keys()
    }

    /// Forgets a pod (deleted, or no longer meshed).
    pub fn remove(&mut self, pod: &PodKey) {
        self.pods.remove(pod);
    }

    /// Forgets the pods whose newest scrape is older than `keep` before
    /// `now`: pods that went away without being removed.
    pub fn prune(&mut self, now: SystemTime) {
        let keep = self.keep;
        self.pods.retain(|_, ring| {
            ring.back()
                .is_some_and(|newest| now.duration_since(newest.at).unwrap_or_default() <= keep)
        });
    }
}

#[cfg(test)]
mod tests;
