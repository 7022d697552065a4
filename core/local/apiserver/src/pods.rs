//! What the API needs from the cluster's running pods: their containers'
//! logs (`pods/log`), which only the host that runs them has.

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

/// The pods of a cluster, as far as the API serves them.
pub trait PodHost: Send + Sync + 'static {
    /// The log of a container of pod `namespace/pod`, or the API's error
    /// (no such pod, no such container, a container name needed).
    fn log(&self, namespace: &str, pod: &str, query: &LogQuery) -> Result<LogStream, ApiError>;
}
