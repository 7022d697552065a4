//! The proxies' metrics history as a `strait local` cluster's API server
//! serves it at [`SCRAPES_PATH`]: for each pod, the oldest and newest raw
//! `/metrics` text inside a window, which the `viz` commands parse and turn
//! into rates (the server does not interpret metrics).

use serde::{Deserialize, Serialize};

/// Where a local cluster's API server serves the history; the window is
/// the `window_secs` query parameter.
pub const SCRAPES_PATH: &str = "/strait/v1/scrapes";

/// The metrics scraped from one pod's proxy inside a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodScrapes {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The Deployment that owns the pod, if any, to aggregate by.
    pub deployment: Option<String>,
    /// The ReplicaSet that controls the pod, if any (absent from the
    /// answers of older servers).
    #[serde(default)]
    pub replicaset: Option<String>,
    /// The StatefulSet that controls the pod, if any.
    #[serde(default)]
    pub statefulset: Option<String>,
    /// Whether the pod runs a proxy (the MESHED column).
    pub meshed: bool,
    /// Whether the pod is ready.
    pub ready: bool,
    /// The oldest scrape inside the window.
    pub first: Option<Scrape>,
    /// The newest scrape inside the window.
    pub last: Option<Scrape>,
}

/// One `/metrics` scrape: when, and the raw Prometheus text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scrape {
    /// When the scrape was taken, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The metrics text, as the proxy served it.
    pub text: String,
}
