//! What the orchestration provides for each cluster it serves.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One embedded cluster, as the API serves it. The orchestration implements
/// this per cluster; the server only reads through it, so the API never
/// needs to know how pods or proxies are run.
pub trait ClusterBackend: Send + Sync + 'static {
    /// The cluster's name: the context name users pass to `--context`.
    fn name(&self) -> &str;
    /// The cluster's objects: apply, delete, label and list go straight to
    /// it, so what the CLI writes is what the controllers watch.
    fn store(&self) -> &strait_store::MemoryStore;
    /// For each proxy, the oldest and newest `/metrics` text taken inside
    /// the last `window`, from which `viz` computes rates.
    fn scrapes(&self, window: Duration) -> Vec<PodScrapes>;
    /// The cluster's identity settings, which `link-gen` and `check` need
    /// to write and verify credentials.
    fn info(&self) -> ClusterInfo;
}

/// The metrics scraped from one pod's proxy inside a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodScrapes {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The Deployment that owns the pod, if any, to aggregate by.
    pub deployment: Option<String>,
    /// Whether the pod runs a proxy (the MESHED column).
    pub meshed: bool,
    /// Whether the pod is ready.
    pub ready: bool,
    /// The oldest scrape inside the window.
    pub first: Option<Scrape>,
    /// The newest scrape inside the window.
    pub last: Option<Scrape>,
}

/// One `/metrics` scrape: when, and the raw Prometheus text, which the CLI
/// parses (the server does not interpret metrics).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scrape {
    /// When the scrape was taken, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The metrics text, as the proxy served it.
    pub text: String,
}

/// A cluster's identity and naming settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The cluster's name.
    pub name: String,
    /// The PEM trust anchors its identity issuer chains to; clusters that
    /// link must share them.
    pub trust_anchors_pem: String,
    /// Its DNS domain, e.g. `cluster.local`.
    pub cluster_domain: String,
    /// Its identity trust domain, e.g. `cluster.local`.
    pub trust_domain: String,
    /// Its control plane's namespace, e.g. `linkerd`.
    pub control_plane_namespace: String,
}
