//! Series kept only while something records into them.
//!
//! Label values a client chooses (the authority of a request, the port it
//! connected to) would otherwise make a series for every value ever sent,
//! and a client sending random `Host` headers would grow the proxy's memory
//! without bound. As in Linkerd's proxy, a series is kept while something
//! holds it (a connection, a balanced endpoint: a [`SeriesLease`]) and for
//! [`Retention::idle`] after the last holder goes; past
//! [`Retention::max_series`] tracked series, the longest idle go at once.
//! A series held is never removed: what holds it is bounded by the
//! connections and balancers the proxy keeps.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use tokio::time::Instant;

use crate::LabelSet;

/// How long a series nothing holds is kept: Linkerd's proxy default
/// (`LINKERD2_PROXY_METRICS_RETAIN_IDLE`), long enough for every scrape of
/// a usual interval to see a finished connection's last counts.
pub const DEFAULT_RETAIN_IDLE: Duration = Duration::from_secs(10 * 60);

/// How many series may be tracked before the idle ones are removed
/// without waiting: room for the endpoints and authorities of a busy
/// proxy, while a client inventing authorities costs a few megabytes at
/// most.
pub const DEFAULT_MAX_SERIES: usize = 5_000;

/// How often creating a series also looks for idle ones; the proxy also
/// calls [`crate::ProxyMetrics::evict_idle`] on its own schedule.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// How long series that nothing holds are kept, and how many are tracked
/// before the longest idle go early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// How long a series stays once nothing holds it.
    pub idle: Duration,
    /// The number of tracked series past which idle ones are removed at
    /// once, longest idle first, down to seven eighths of it.
    pub max_series: usize,
}

impl Default for Retention {
    /// [`DEFAULT_RETAIN_IDLE`] and [`DEFAULT_MAX_SERIES`].
    fn default() -> Self {
        Retention {
            idle: DEFAULT_RETAIN_IDLE,
            max_series: DEFAULT_MAX_SERIES,
        }
    }
}

/// One tracked label set: the series labelled with it, and those labelled
/// with it followed by more labels (a status code, an authorization).
#[derive(Debug)]
struct Entry {
    labels: LabelSet,
    /// The longer label sets made under this one, removed with it.
    derived: Mutex<BTreeSet<LabelSet>>,
    /// When its last holder went (or when it was made).
    released: Mutex<Instant>,
}

/// A hold on the series labelled with one label set: while any lease on it
/// lives, none of its series is removed.
#[derive(Debug)]
pub struct SeriesLease {
    entry: Arc<Entry>,
}

impl Clone for SeriesLease {
    fn clone(&self) -> Self {
        SeriesLease {
            entry: self.entry.clone(),
        }
    }
}

impl Drop for SeriesLease {
    fn drop(&mut self) {
        *self.entry.released.lock() = Instant::now();
    }
}

impl SeriesLease {
    /// The labels of the lease's own series.
    pub fn labels(&self) -> &LabelSet {
        &self.entry.labels
    }

    /// The metric of `family` labelled with the lease's labels, made on
    /// first use.
    pub fn metric<M: Clone, C: MetricConstructor<M>>(&self, family: &Family<LabelSet, M, C>) -> M {
        family.get_or_create_owned(&self.entry.labels)
    }

    /// The metric of `family` labelled with the lease's labels followed by
    /// `extra`, made on first use and removed with the lease's own.
    pub fn metric_with<M: Clone, C: MetricConstructor<M>>(
        &self,
        family: &Family<LabelSet, M, C>,
        extra: LabelSet,
    ) -> M {
        let mut labels = self.entry.labels.clone();
        labels.extend(extra);
        let metric = family.get_or_create_owned(&labels);
        self.entry.derived.lock().insert(labels);
        metric
    }
}

/// Every tracked label set, and when they were last swept.
#[derive(Debug)]
pub(crate) struct Tracker {
    retention: Retention,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    entries: HashMap<LabelSet, Arc<Entry>>,
    last_sweep: Instant,
    /// The number of entries at which the cap is next enforced: after a
    /// pass that found too few idle entries, not before an eighth of the
    /// cap more were made, so that many held series do not make every new
    /// one scan them all.
    next_cap_check: usize,
}

impl Tracker {
    pub(crate) fn new(retention: Retention) -> Self {
        Tracker {
            retention,
            state: Mutex::new(State {
                entries: HashMap::new(),
                last_sweep: Instant::now(),
                next_cap_check: 0,
            }),
        }
    }

    pub(crate) fn retention(&self) -> Retention {
        self.retention
    }

    /// A lease on `labels`, tracking them if they were not. `forget`
    /// removes a label set from every family; it is called, under the
    /// tracker's lock, for each label set of the entries evicted on the
    /// way, so that no lease taken after can see its series removed.
    pub(crate) fn lease(&self, labels: LabelSet, forget: impl Fn(&LabelSet)) -> SeriesLease {
        let now = Instant::now();
        let mut state = self.state.lock();
        if now.saturating_duration_since(state.last_sweep) >= SWEEP_INTERVAL {
            self.sweep(&mut state, now, &forget);
        }
        let entry = match state.entries.get(&labels) {
            Some(entry) => entry.clone(),
            None => {
                let entry = Arc::new(Entry {
                    labels: labels.clone(),
                    derived: Mutex::new(BTreeSet::new()),
                    released: Mutex::new(now),
                });
                state.entries.insert(labels, entry.clone());
                self.cap(&mut state, now, &forget);
                entry
            }
        };
        SeriesLease { entry }
    }

    /// Removes every entry idle for longer than the retention allows.
    pub(crate) fn evict_idle(&self, forget: impl Fn(&LabelSet)) {
        let mut state = self.state.lock();
        self.sweep(&mut state, Instant::now(), &forget);
    }

    /// How many label sets are tracked.
    pub(crate) fn len(&self) -> usize {
        self.state.lock().entries.len()
    }

    fn sweep(&self, state: &mut State, now: Instant, forget: &impl Fn(&LabelSet)) {
        state.last_sweep = now;
        let idle = self.retention.idle;
        let expired: Vec<LabelSet> = state
            .entries
            .iter()
            .filter(|(_, entry)| {
                unheld(entry) && now.saturating_duration_since(released(entry)) >= idle
            })
            .map(|(labels, _)| labels.clone())
            .collect();
        for labels in expired {
            evict(state, &labels, forget);
        }
    }

    /// Past the cap: the expired go, then the longest idle, down to seven
    /// eighths of the cap.
    fn cap(&self, state: &mut State, now: Instant, forget: &impl Fn(&LabelSet)) {
        let max = self.retention.max_series;
        if state.entries.len() <= max || state.entries.len() < state.next_cap_check {
            return;
        }
        self.sweep(state, now, forget);
        let target = max - max / 8;
        if state.entries.len() > target {
            let mut idle: Vec<(Instant, LabelSet)> = state
                .entries
                .iter()
                .filter(|(_, entry)| unheld(entry))
                .map(|(labels, entry)| (released(entry), labels.clone()))
                .collect();
            idle.sort();
            let excess = state.entries.len() - target;
            for (_, labels) in idle.into_iter().take(excess) {
                evict(state, &labels, forget);
            }
        }
        state.next_cap_check = state.entries.len() + (max / 8).max(1);
    }
}

/// Whether only the tracker holds the entry. Leases are cloned from the
/// tracker's only under its lock, so an entry found unheld there stays so.
fn unheld(entry: &Arc<Entry>) -> bool {
    Arc::strong_count(entry) == 1
}

fn released(entry: &Entry) -> Instant {
    *entry.released.lock()
}

fn evict(state: &mut State, labels: &LabelSet, forget: &impl Fn(&LabelSet)) {
    let Some(entry) = state.entries.remove(labels) else {
        return;
    };
    forget(&entry.labels);
    for derived in entry.derived.lock().iter() {
        forget(derived);
    }
}

#[cfg(test)]
mod tests;
