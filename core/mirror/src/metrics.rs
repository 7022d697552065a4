//! Prometheus metrics of the service mirror.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    link: String,
    mode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    link: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WatchLabels {
    link: String,
    cluster: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    link: String,
    decision: String,
    outcome: String,
}

/// What operators watch a mirror by: `service_mirror_mirrors{link,mode}`,
/// `service_mirror_reconcile_errors_total{link,reason}`,
/// `service_mirror_watch_restarts_total{link,cluster}` and
/// `service_mirror_plugin_decisions_total{link,decision,outcome}`. Cloning
/// shares the series; mirrors of several Links share one set.
#[derive(Clone, Debug, Default)]
pub struct MirrorMetrics {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    mirrors: Family<ModeLabels, Gauge>,
    errors: Family<ErrorLabels, Counter>,
    restarts: Family<WatchLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
}

impl MirrorMetrics {
    /// Exposes the metrics in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "service_mirror_mirrors",
            "Mirror Services by link and mode",
            self.inner.mirrors.clone(),
        );
        registry.register(
            "service_mirror_reconcile_errors",
            "Mirrors that could not be written, by link and reason",
            self.inner.errors.clone(),
        );
        registry.register(
            "service_mirror_watch_restarts",
            "Watches restarted after an error, by link and cluster (local, remote)",
            self.inner.restarts.clone(),
        );
        registry.register(
            "service_mirror_plugin_decisions",
            "Export plugin decisions by link, decision and call outcome",
            self.inner.decisions.clone(),
        );
    }

    pub(crate) fn mirrored(&self, link: &str, mode: &str, delta: i64) {
        self.inner
            .mirrors
            .get_or_create(&ModeLabels {
                link: link.into(),
                mode: mode.into(),
            })
            .inc_by(delta);
    }

    pub(crate) fn error(&self, link: &str, reason: &str) {
        self.inner
            .errors
            .get_or_create(&ErrorLabels {
                link: link.into(),
                reason: reason.into(),
            })
            .inc();
    }

    pub(crate) fn restart(&self, link: &str, cluster: &str) {
        self.inner
            .restarts
            .get_or_create(&WatchLabels {
                link: link.into(),
                cluster: cluster.into(),
            })
            .inc();
    }

    pub(crate) fn decision(&self, link: &str, decision: &str, outcome: &str) {
        self.inner
            .decisions
            .get_or_create(&DecisionLabels {
                link: link.into(),
                decision: decision.into(),
                outcome: outcome.into(),
            })
            .inc();
    }
}
