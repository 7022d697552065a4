//! A cluster's pods as its Kubernetes API serves them: `pods/log` read
//! from the workloads' log buffers, each failure in the API server's words.

use futures::StreamExt;
use http::StatusCode;
use strait_apiserver::{ApiError, LogQuery, LogStream, PodHost};
use strait_local_workloads::{LogError, LogOptions, LogReader};

/// The pods of one cluster.
#[derive(Clone, Debug)]
pub struct LocalPods {
    logs: LogReader,
}

impl LocalPods {
    /// The pods whose logs `logs` reads.
    pub fn new(logs: LogReader) -> Self {
        LocalPods { logs }
    }
}

impl PodHost for LocalPods {
    fn log(&self, namespace: &str, pod: &str, query: &LogQuery) -> Result<LogStream, ApiError> {
        let log = self
            .logs
            .logs(namespace, pod, query.container.as_deref())
            .map_err(|e| match e {
                LogError::NoPod { .. } => ApiError::not_found("pods", pod),
                other => ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", other.to_string()),
            })?;
        let options = LogOptions {
            tail_lines: query.tail_lines.map(|n| n as u64),
            since_seconds: query.since_seconds,
            since_time: None,
            timestamps: query.timestamps,
            limit_bytes: query.limit_bytes.map(|n| n as u64),
        };
        if query.follow {
            Ok(log.follow(&options).boxed())
        } else {
            let body = bytes::Bytes::from(log.read(&options));
            Ok(futures::stream::iter([body]).boxed())
        }
    }
}
