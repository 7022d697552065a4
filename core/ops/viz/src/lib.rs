//! `viz stat` and `viz authz`, computed from the proxies' metrics and
//! printed as Linkerd's viz prints them.
//!
//! The numbers come from one of two sources that must agree:
//!
//! * kept scrapes of each proxy's `/metrics` ([`History`], [`PodScrapes`]),
//!   for the embedded runtime, where no Prometheus runs: rates are the
//!   difference between the oldest and the newest scrape of the window;
//! * a Prometheus HTTP API ([`stat_from_prometheus`],
//!   [`authz_from_prometheus`]), on Kubernetes, with the queries Linkerd's
//!   viz sends.
//!
//! A `strait local` cluster's API server serves the kept scrapes as
//! [`wire::PodScrapes`], raw text the commands parse here.
//!
//! Both produce the same rows ([`StatRow`], [`AuthzRow`]), so one formatter
//! ([`format_stat`], [`format_authz`]) prints them with Linkerd's layout.

mod authz;
mod format;
mod history;
mod parse;
mod prom;
mod quantile;
mod request;
mod scrapes;
mod service;
mod stat;
pub mod wire;

use std::time::Duration;

pub use authz::{AuthzRow, authz_from_scrapes};
pub use format::{NO_TRAFFIC, format_authz, format_stat, format_stat_for};
pub use history::{History, PodKey, PodScrapes, Scrape};
pub use parse::{LineFault, ParseError, Sample, parse_metrics};
pub use prom::{
    PodInfo, QueryError, ResponseError, authz_from_prometheus, service_stat_from_prometheus,
    stat_from_prometheus,
};
pub use quantile::histogram_quantile;
pub use request::{Report, Request, parse_resource};
pub use service::{ServiceRef, service_stat_from_scrapes};
pub use stat::{StatRow, TrafficStats, stat_from_scrapes};

/// The shortest window accepted: Linkerd's viz refuses shorter ones, since
/// Prometheus scrapes every 10 s and a rate needs two scrapes.
pub const MIN_WINDOW: Duration = Duration::from_secs(15);

/// The window used when none is given, as Linkerd's `--time-window`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// The resource kind rows are grouped by, as `viz stat deploy`, `po`,
/// `rs`, `sts`, `ns` or `svc` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// One row per deployment, from the `deployment` of its pods.
    Deployment,
    /// One row per pod.
    Pod,
    /// One row per ReplicaSet, from the controller of its pods.
    ReplicaSet,
    /// One row per StatefulSet, from the controller of its pods.
    StatefulSet,
    /// One row per namespace, over all its pods.
    Namespace,
    /// One row per Service: the traffic meshed clients sent to it (their
    /// outbound metrics, by `dst_service`), as Linkerd's viz reports
    /// Services; no MESHED count, since a Service runs no pods.
    Service,
}

impl ResourceKind {
    /// The kind as Linkerd's JSON output names it (`deployment`, `pod`,
    /// `replicaset`, `statefulset`, `namespace`, `service`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Deployment => "deployment",
            ResourceKind::Pod => "pod",
            ResourceKind::ReplicaSet => "replicaset",
            ResourceKind::StatefulSet => "statefulset",
            ResourceKind::Namespace => "namespace",
            ResourceKind::Service => "service",
        }
    }

    /// The label of the proxies' series (as Prometheus keeps them) that
    /// names a row of this kind.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ResourceKind::Deployment => "deployment",
            ResourceKind::Pod => "pod",
            ResourceKind::ReplicaSet => "replicaset",
            ResourceKind::StatefulSet => "statefulset",
            ResourceKind::Namespace => "namespace",
            ResourceKind::Service => "dst_service",
        }
    }
}

/// What `viz stat` and `viz authz` ask: the traffic of which resources,
/// over which window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The namespace, or `None` for all (`-A`), which adds a NAMESPACE
    /// column to `viz stat`.
    pub namespace: Option<String>,
    /// Rows per deployment or per pod.
    pub resource: ResourceKind,
    /// One resource by name (`deploy/bb`), or `None` for all of the kind.
    pub name: Option<String>,
    /// The window rates and quantiles are computed over.
    pub window: Duration,
}

/// The output format, as Linkerd's `-o` flag takes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    /// The aligned table.
    #[default]
    Table,
    /// A JSON array with Linkerd's field names, for scripts.
    Json,
    /// The table with the extra columns of Linkerd's `-o wide`.
    Wide,
}

/// Why a command's window or resource could not be read, or Prometheus
/// could not answer.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    /// The window is not a Go duration such as `1m` or `30s`.
    #[error("invalid time window {0:?}: expected a duration such as 1m, 30s or 1m30s")]
    InvalidWindow(String),
    /// The window is shorter than [`MIN_WINDOW`].
    #[error(
        "time window {0:?} is too short: it must be at least 15s, so that it holds two scrapes of every proxy"
    )]
    WindowTooShort(String),
    /// The words do not name one resource.
    #[error("expected a resource such as deploy or deploy/bb, got {0:?}")]
    Resource(String),
    /// The resource is of a kind viz does not report on.
    #[error("{0:?} is not a resource viz reports on: use deploy, po, rs, sts, ns or svc")]
    ResourceKind(String),
    /// `viz authz` of Services: authorizations are decided by the
    /// proxies of workloads, not of Services.
    #[error("viz authz reports on workloads: use deploy, po, rs, sts or ns, not svc")]
    AuthzOfService,
    /// The Prometheus API failed or answered something unexpected.
    #[error("prometheus query {url} failed: {fault}")]
    Prometheus {
        /// The URL that was requested.
        url: String,
        /// What failed.
        #[source]
        fault: QueryError,
    },
}

/// Reads a `--time-window` as Linkerd's viz does: Go notation (`1m`,
/// `30s`, `1m30s`), empty for the default of one minute, and refused when
/// under 15 s, where rates would rest on a single scrape.
pub fn parse_window(text: &str) -> Result<Duration, VizError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(DEFAULT_WINDOW);
    }
    let window =
        strait_api::go_duration(text).ok_or_else(|| VizError::InvalidWindow(text.to_owned()))?;
    if window < MIN_WINDOW {
        return Err(VizError::WindowTooShort(text.to_owned()));
    }
    Ok(window)
}

#[cfg(test)]
mod tests;
