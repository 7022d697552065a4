//! Prometheus metrics of the service mirror.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
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
struct LinkLabels {
    link: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProbeLabels {
    link: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    link: String,
    decision: String,
    outcome: String,
}

/// What operators watch a mirror by: `service_mirror_mirrors{link,mode}`,
/// `service_mirror_reconcile_errors_total{link,reason}`,
/// `service_mirror_watch_restarts_total{link,cluster}`,
/// `service_mirror_plugin_decisions_total{link,decision,outcome}`, and
/// Linkerd's gateway metrics `gateway_alive{link}`,
/// `gateway_probes_total{link,outcome}` and `gateway_latency{link}` (ms), and
/// `service_mirror_leader{link}` (1 while this replica holds the Link's
/// Lease and mirrors, 0 while it stands by). Cloning
/// shares the series; mirrors of several Links share one set.
#[derive(Clone, Debug, Default)]
pub struct MirrorMetrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mirrors: Family<ModeLabels, Gauge>,
    errors: Family<ErrorLabels, Counter>,
    restarts: Family<WatchLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
    gateway_alive: Family<LinkLabels, Gauge>,
    gateway_probes: Family<ProbeLabels, Counter>,
    gateway_latency: Family<LinkLabels, Histogram, fn() -> Histogram>,
    leader: Family<LinkLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    // Milliseconds, as Linkerd's gateway_latency.
    Histogram::new([
        1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0, 30000.0,
    ])
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            mirrors: Family::default(),
            errors: Family::default(),
            restarts: Family::default(),
            decisions: Family::default(),
            gateway_alive: Family::default(),
            gateway_probes: Family::default(),
            gateway_latency: Family::new_with_constructor(latency_histogram),
            leader: Family::default(),
        }
    }
}

impl MirrorMetrics {
    /// Records whether this replica leads (mirrors) for `link`, so
    /// operators see which replica of a Link's service mirror is active.
    pub fn set_leader(&self, link: &str, leading: bool) {
        self.inner
            .leader
            .get_or_create(&LinkLabels {
                link: link.to_string(),
            })
            .set(i64::from(leading));
    }

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
            "gateway_alive",
            "1 while the Link's gateway answers its probe",
            self.inner.gateway_alive.clone(),
        );
        registry.register(
            "gateway_probes",
            "Gateway probes by link and outcome",
            self.inner.gateway_probes.clone(),
        );
        registry.register(
            "gateway_latency",
            "Gateway probe latency in milliseconds",
            self.inner.gateway_latency.clone(),
        );
        registry.register(
            "service_mirror_leader",
            "1 while this replica holds the link's service mirror Lease, 0 while it stands by",
            self.inner.leader.clone(),
        );
        registry.register(
            "service_mirror_plugin_decisions",
            "Export plugin decisions by link, decision and call outcome",
            self.inner.decisions.clone(),
        );
    }

    pub(crate) fn gateway_alive(&self, link: &str, alive: bool) {
        self.inner
            .gateway_alive
            .get_or_create(&LinkLabels { link: link.into() })
            .set(i64::from(alive));
    }

    pub(crate) fn gateway_probe(&self, link: &str, success: bool, latency: std::time::Duration) {
        self.inner
            .gateway_probes
            .get_or_create(&ProbeLabels {
                link: link.into(),
                outcome: if success { "success" } else { "failure" }.into(),
            })
            .inc();
        if success {
            self.inner
                .gateway_latency
                .get_or_create(&LinkLabels { link: link.into() })
                .observe(latency.as_secs_f64() * 1e3);
        }
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
