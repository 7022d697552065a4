//! Synthetic proxies: strait's metric families under a registry carrying
//! the pod's labels, as the embedded runtime exports them.

#![allow(dead_code)]

use std::borrow::Cow;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use strait_proxy_metrics::{LabelSet, Labels, ProxyMetrics};

/// One proxy's metrics and the registry exporting them.
pub struct Proxy {
    pub metrics: ProxyMetrics,
    registry: Registry,
}

impl Proxy {
    pub fn new(namespace: &str, pod: &str, deployment: &str) -> Self {
        let metrics = ProxyMetrics::new();
        let mut registry = Registry::default();
        let labels = [
            ("namespace", namespace),
            ("pod", pod),
            ("deployment", deployment),
        ]
        .map(|(k, v)| (Cow::Borrowed(k), Cow::Owned(v.to_owned())));
        metrics.register(registry.sub_registry_with_labels(labels.into_iter()));
        Proxy { metrics, registry }
    }

    /// The `/metrics` page (OpenMetrics text, with `# EOF`).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("encode");
        text
    }

    /// `n` inbound responses on `labels`, each taking `latency_ms`.
    pub fn respond(&self, labels: &LabelSet, status: &str, class: &str, n: u64, latency_ms: f64) {
        let mut with_status = labels.clone();
        with_status.push(("status_code".into(), status.into()));
        let mut with_class = with_status.clone();
        with_class.push(("classification".into(), class.into()));
        self.metrics.request_total.get_or_create(labels).inc_by(n);
        self.metrics
            .response_total
            .get_or_create(&with_class)
            .inc_by(n);
        let histogram = self.metrics.response_latency_ms.get_or_create(&with_status);
        for _ in 0..n {
            histogram.observe(latency_ms);
        }
    }

    /// `n` requests admitted by `authz` (`(kind, name)`).
    pub fn allow(&self, labels: &LabelSet, authz: (&str, &str), n: u64) {
        let mut with_authz = labels.clone();
        with_authz.push(("authz_group".into(), "policy.linkerd.io".into()));
        with_authz.push(("authz_kind".into(), authz.0.into()));
        with_authz.push(("authz_name".into(), authz.1.into()));
        self.metrics
            .inbound_http_authz_allow_total
            .get_or_create(&with_authz)
            .inc_by(n);
    }

    /// `n` requests refused.
    pub fn deny(&self, labels: &LabelSet, n: u64) {
        self.metrics
            .inbound_http_authz_deny_total
            .get_or_create(labels)
            .inc_by(n);
    }

    /// Sets the open inbound connections.
    pub fn connections(&self, n: i64) {
        let labels = Labels::inbound()
            .with("target_addr", "10.0.0.1:8080")
            .with("tls", "true")
            .build();
        self.metrics
            .tcp_open_connections
            .get_or_create(&labels)
            .set(n);
    }
}

/// The request labels of inbound traffic on server `srv` (kind
/// `srv_kind`) and route `route`, from `client`.
pub fn inbound(client: &str, srv_kind: &str, srv: &str, route: &str) -> LabelSet {
    Labels::inbound()
        .with("authority", "bb.mc-demo.svc.cluster.local:8080")
        .with("target_addr", "10.0.0.1:8080")
        .with("tls", "true")
        .with("client_id", client)
        .with(
            "srv_group",
            if srv_kind == "default" {
                ""
            } else {
                "policy.linkerd.io"
            },
        )
        .with("srv_kind", srv_kind)
        .with("srv_name", srv)
        .with("route_group", "")
        .with("route_kind", "default")
        .with("route_name", route)
        .build()
}

pub const SLOW_COOKER: &str = strait_test_support::guide::SLOW_COOKER;
pub const EVIL: &str = strait_test_support::guide::EVIL;
pub const KUBELET: &str = "";

/// The guide's traffic over `seconds` on pod `bb`: slow-cooker at 10 rps
/// (admitted by bb-authz), slow-cooker-evil at `evil_rps` (refused),
/// unauthenticated traffic at 0.1 rps and probes at 0.2 rps, all under 1ms.
pub fn guide_traffic(proxy: &Proxy, seconds: u64, evil_rps: u64) {
    let good = inbound(SLOW_COOKER, "server", "bb", "default");
    proxy.respond(&good, "200", "success", 10 * seconds, 0.5);
    proxy.allow(&good, ("authorizationpolicy", "bb-authz"), 10 * seconds);
    if evil_rps > 0 {
        let evil = inbound(EVIL, "server", "bb", "default");
        proxy.respond(&evil, "403", "success", evil_rps * seconds, 0.2);
        proxy.deny(&evil, evil_rps * seconds);
    }
    let unauthenticated = inbound(KUBELET, "default", "all-unauthenticated", "default");
    proxy.respond(&unauthenticated, "200", "success", seconds / 10, 0.5);
    proxy.allow(
        &unauthenticated,
        ("default", "all-unauthenticated"),
        seconds / 10,
    );
    let probe = inbound(KUBELET, "default", "all-unauthenticated", "probe");
    proxy.respond(&probe, "200", "success", seconds / 5, 0.5);
    proxy.allow(&probe, ("default", "probe"), seconds / 5);
}
