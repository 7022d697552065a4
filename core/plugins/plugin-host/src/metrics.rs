//! Prometheus metrics of plugin calls and reloads.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::version::CallOutcome;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    version: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    plugin: String,
    version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    plugin: String,
    outcome: String,
}

fn duration_histogram() -> Histogram {
    // 1 µs to ~130 ms: decisions take microseconds, deadlines are milliseconds.
    Histogram::new(exponential_buckets(1e-6, 2.0, 18))
}

/// Every plugin call and reload, by plugin, version and outcome:
/// `plugin_calls_total`, `plugin_call_duration_seconds`,
/// `plugin_active_version` (1 for the version serving now) and
/// `plugin_reloads_total`. Cloning shares the same series.
#[derive(Clone, Debug)]
pub struct PluginMetrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    calls: Family<CallLabels, Counter>,
    durations: Family<CallLabels, Histogram, fn() -> Histogram>,
    active: Family<VersionLabels, Gauge>,
    reloads: Family<ReloadLabels, Counter>,
}

impl Default for PluginMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl PluginMetrics {
    /// Metrics not yet exposed anywhere; see [`PluginMetrics::register`].
    pub fn new() -> Self {
        PluginMetrics {
            inner: Arc::new(Inner {
                calls: Family::default(),
                durations: Family::new_with_constructor(duration_histogram),
                active: Family::default(),
                reloads: Family::default(),
            }),
        }
    }

    /// Exposes the metrics in `registry` (the process's `/metrics`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "plugin_calls",
            "Plugin calls by plugin, version and outcome",
            self.inner.calls.clone(),
        );
        registry.register(
            "plugin_call_duration_seconds",
            "Duration of plugin calls",
            self.inner.durations.clone(),
        );
        registry.register(
            "plugin_active_version",
            "1 for the plugin version that serves calls now",
            self.inner.active.clone(),
        );
        registry.register(
            "plugin_reloads",
            "Plugin version loads by plugin and outcome (accepted, rejected)",
            self.inner.reloads.clone(),
        );
    }

    /// Resolves the series of one version once, so a call only touches atomics.
    pub(crate) fn meters(&self, plugin: &str, version: &str) -> CallMeters {
        let per_outcome = CallOutcome::ALL.map(|outcome| {
            let labels = CallLabels {
                plugin: plugin.to_string(),
                version: version.to_string(),
                outcome: outcome.as_str().to_string(),
            };
            (
                self.inner.calls.get_or_create_owned(&labels),
                self.inner.durations.get_or_create_owned(&labels),
            )
        });
        CallMeters { per_outcome }
    }

    pub(crate) fn set_active(&self, plugin: &str, new: &str, old: Option<&str>) {
        if let Some(old) = old.filter(|old| *old != new) {
            self.inner.active.remove(&VersionLabels {
                plugin: plugin.to_string(),
                version: old.to_string(),
            });
        }
        self.inner
            .active
            .get_or_create(&VersionLabels {
                plugin: plugin.to_string(),
                version: new.to_string(),
            })
            .set(1);
    }

    pub(crate) fn reload(&self, plugin: &str, accepted: bool) {
        self.inner
            .reloads
            .get_or_create(&ReloadLabels {
                plugin: plugin.to_string(),
                outcome: if accepted { "accepted" } else { "rejected" }.to_string(),
            })
            .inc();
    }
}

/// The call series of one plugin version.
#[derive(Clone, Debug)]
pub(crate) struct CallMeters {
    per_outcome: [(Counter, Histogram); CallOutcome::ALL.len()],
}

impl CallMeters {
    pub(crate) fn record(&self, outcome: CallOutcome, seconds: f64) {
        let (count, duration) = &self.per_outcome[outcome as usize];
        count.inc();
        duration.observe(seconds);
    }
}

#[cfg(test)]
mod tests;
