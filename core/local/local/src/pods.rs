//! A cluster as its Kubernetes API needs its host: `pods/log` read from
//! the workloads' log buffers, and strait's endpoints beside the API (the
//! proxies' metrics history for `viz`, the cluster's identity settings),
//! each failure in the API server's words. The API starts before the
//! cluster's workloads (so Links' credentials can name it from the start);
//! until the cluster is bound, these answer that it is starting.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use http::StatusCode;
use strait_apiserver::{ApiError, ClusterHost, LogQuery, LogStream};
use strait_local_workloads::{LogError, LogOptions};

use crate::cluster::LocalCluster;

/// The host of one cluster, bound once the cluster runs.
#[derive(Clone, Default)]
pub(crate) struct LateHost {
    cluster: Arc<OnceLock<Arc<LocalCluster>>>,
}

impl LateHost {
    /// Binds the running cluster.
    pub(crate) fn bind(&self, cluster: Arc<LocalCluster>) {
        let _ = self.cluster.set(cluster);
    }

    fn cluster(&self) -> Result<&LocalCluster, ApiError> {
        self.cluster.get().map(|c| &**c).ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "the cluster's workloads are starting",
            )
        })
    }
}

impl ClusterHost for LateHost {
    fn log(&self, namespace: &str, pod: &str, query: &LogQuery) -> Result<LogStream, ApiError> {
        let log = self
            .cluster()?
            .log_reader()
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

    fn scrapes(&self, window: Duration) -> serde_json::Value {
        match self.cluster() {
            Ok(cluster) => serde_json::to_value(cluster.scrapes(window)).unwrap_or_default(),
            Err(_) => serde_json::Value::Array(Vec::new()),
        }
    }

    fn info(&self) -> serde_json::Value {
        match self.cluster() {
            Ok(cluster) => serde_json::to_value(cluster.info()).unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        }
    }
}
