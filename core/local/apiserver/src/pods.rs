//! What the API needs from the host that runs the cluster: its pods'
//! container logs (`pods/log`), and strait's own endpoints beside the
//! Kubernetes API (`/strait/v1/...`): the proxies' metrics history that
//! `strait viz` reads for a local cluster, and the cluster's identity
//! settings.

use bytes::Bytes;
use futures::stream::BoxStream;

use crate::status::ApiError;

/// The query of a `pods/log` request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// `container`: which container; required when the pod has several.
    pub container: Option<String>,
    /// `follow`: keep the stream open for new lines.
    pub follow: bool,
    /// `tailLines`: only the last lines.
    pub tail_lines: Option<usize>,
    /// `sinceSeconds`: only lines this recent.
    pub since_seconds: Option<u64>,
    /// `timestamps`: each line prefixed with its RFC 3339 time.
    pub timestamps: bool,
    /// `limitBytes`: at most this much.
    pub limit_bytes: Option<usize>,
    /// `previous`: the previous instance's log (there is none here).
    pub previous: bool,
}

/// A container's log as it is sent: chunks of text, ending when the log
/// does (at once without `follow`, when the pod stops with it).
pub type LogStream = BoxStream<'static, Bytes>;

/// The host of a cluster, as far as the API serves it.
pub trait ClusterHost: Send + Sync + 'static {
    /// The log of a container of pod `namespace/pod`, or the API's error
    /// (no such pod, no such container, a container name needed).
    fn log(&self, namespace: &str, pod: &str, query: &LogQuery) -> Result<LogStream, ApiError>;

    /// `GET /strait/v1/scrapes?window_secs=N`: for each pod, the oldest and
    /// newest metrics scrape of its proxy inside the window.
    fn scrapes(&self, window: std::time::Duration) -> serde_json::Value;

    /// `GET /strait/v1/info`: the cluster's name, domains, control-plane
    /// namespace and trust anchors.
    fn info(&self) -> serde_json::Value;
}
