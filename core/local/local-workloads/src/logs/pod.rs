//! A Pod's logs: one [`ContainerLog`] per container of its spec, and the
//! API server's rules for which container a request reads.

use std::time::SystemTime;

use bytes::Bytes;
use futures::Stream;
use k8s_openapi::api::core::v1::PodSpec;

use super::options::Limit;
use super::{ContainerLog, LogFollow, LogLine, LogOptions};

/// Why a log cannot be read. The messages are the API server's own, so
/// they can be returned as they are (a 404 for [`LogError::NoPod`], a 400
/// for the others).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The kubelet runs no Pod of that name.
    #[error("pods \"{pod}\" not found")]
    NoPod {
        /// The namespace asked for.
        namespace: String,
        /// The Pod asked for.
        pod: String,
    },
    /// The Pod has no container of that name.
    #[error("container {container} is not valid for pod {pod}")]
    NoContainer {
        /// The Pod.
        pod: String,
        /// The container asked for.
        container: String,
        /// The containers it does have, init containers first.
        containers: Vec<String>,
    },
    /// No container was named and the Pod has more than one.
    #[error("a container name must be specified for pod {pod}, choose one of: [{}]", containers.join(" "))]
    ContainerRequired {
        /// The Pod.
        pod: String,
        /// Its containers, init containers first, as the API server lists
        /// them.
        containers: Vec<String>,
    },
}

/// The logs of one Pod's containers, init containers first, in spec
/// order. Clones share the same logs.
#[derive(Clone, Debug, Default)]
pub struct PodLogs {
    containers: Vec<(String, ContainerLog)>,
    /// How many of `containers` are init containers: only the others count
    /// when the API server picks the one container of a Pod.
    init: usize,
}

impl PodLogs {
    /// An empty log for every container of `spec`. Containers strait local
    /// does not run (init containers, the proxy) keep an empty log, as a
    /// container that prints nothing.
    pub fn of_spec(spec: &PodSpec) -> Self {
        let init: Vec<String> = spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect();
        let regular = spec.containers.iter().map(|c| c.name.clone());
        PodLogs {
            init: init.len(),
            containers: init
                .into_iter()
                .chain(regular)
                .map(|name| (name, ContainerLog::default()))
                .collect(),
        }
    }

    /// The log `container` writes to, if the Pod has it.
    pub(crate) fn container(&self, container: &str) -> Option<&ContainerLog> {
        self.containers
            .iter()
            .find(|(name, _)| name == container)
            .map(|(_, log)| log)
    }

    /// The container a request for `pod` reads: the one named, or the
    /// Pod's only (non-init) container when none is.
    pub fn resolve(&self, pod: &str, container: Option<&str>) -> Result<PodLog, LogError> {
        let names = || self.containers.iter().map(|(n, _)| n.clone()).collect();
        let found = match container.filter(|c| !c.is_empty()) {
            Some(wanted) => self
                .containers
                .iter()
                .find(|(name, _)| name == wanted)
                .ok_or_else(|| LogError::NoContainer {
                    pod: pod.to_string(),
                    container: wanted.to_string(),
                    containers: names(),
                })?,
            None => match &self.containers[self.init..] {
                [only] => only,
                _ => {
                    return Err(LogError::ContainerRequired {
                        pod: pod.to_string(),
                        containers: names(),
                    });
                }
            },
        };
        Ok(PodLog {
            pod: pod.to_string(),
            container: found.0.clone(),
            log: found.1.clone(),
        })
    }

    /// Ends every container's log: the Pod has stopped.
    pub(crate) fn close(&self) {
        for (_, log) in &self.containers {
            log.close();
        }
    }
}

/// The log of one container of one Pod, as a log request reads it.
#[derive(Clone, Debug)]
pub struct PodLog {
    pod: String,
    container: String,
    log: ContainerLog,
}

impl PodLog {
    /// The Pod's name.
    pub fn pod(&self) -> &str {
        &self.pod
    }

    /// The container read.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// Every line kept now, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        self.log.lines()
    }

    /// Whether the Pod has stopped (its log will not grow).
    pub fn is_closed(&self) -> bool {
        self.log.is_closed()
    }

    /// The response body for a request without `follow`.
    pub fn read(&self, options: &LogOptions) -> Vec<u8> {
        options.apply(&self.log.lines(), SystemTime::now())
    }

    /// The raw follower of lines written from now on.
    pub fn follow_lines(&self) -> LogFollow {
        self.log.follow()
    }

    /// The response body for `follow=true`, in chunks: what `read` would
    /// send, then every line written after, until the Pod stops or
    /// `limit_bytes` is reached.
    pub fn follow(&self, options: &LogOptions) -> impl Stream<Item = Bytes> + Send + 'static {
        let (lines, next) = self.log.snapshot();
        let backlog: Vec<LogLine> = options.select(&lines, SystemTime::now());
        let state = Following {
            options: options.clone(),
            backlog: backlog.into_iter(),
            follow: self.log.follow_from(next),
            limit: Limit::new(options.limit_bytes),
        };
        futures::stream::unfold(state, |mut state| async move {
            let chunk = state.next_chunk().await?;
            Some((chunk, state))
        })
    }
}

/// Where a `follow=true` response is: the backlog first, then new lines.
struct Following {
    options: LogOptions,
    backlog: std::vec::IntoIter<LogLine>,
    follow: LogFollow,
    limit: Limit,
}

impl Following {
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.limit.exhausted() {
            return None;
        }
        let line = match self.backlog.next() {
            Some(line) => line,
            None => self.follow.next_line().await?,
        };
        let mut chunk = Vec::new();
        self.limit.take(&self.options.render(&line), &mut chunk);
        Some(Bytes::from(chunk))
    }
}
