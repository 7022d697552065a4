//! One `viz stat` or `viz authz` command, from its words to its output:
//! the resource it names, and its answer from kept scrapes or from
//! Prometheus.

use k8s_openapi::api::core::v1::Pod;

use crate::{
    Output, PodInfo, PodScrapes, Query, ResourceKind, ServiceRef, VizError, authz_from_prometheus,
    authz_from_scrapes, format_authz, format_stat_for, service_stat_from_prometheus,
    service_stat_from_scrapes, stat_from_prometheus, stat_from_scrapes,
};

/// Which of viz's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// `viz stat`: traffic per resource.
    Stat,
    /// `viz authz`: traffic per route, server and authorization.
    Authz,
}

/// A viz command: the table, what it asks, and how to print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The table.
    pub report: Report,
    /// The resources and window.
    pub query: Query,
    /// The output format.
    pub output: Output,
}

impl Request {
    /// The output from kept scrapes of the proxies' metrics; `services`
    /// are the rows of `viz stat svc`.
    pub fn answer_from_scrapes(&self, pods: &[PodScrapes], services: &[ServiceRef]) -> String {
        match self.report {
            Report::Authz => format_authz(&authz_from_scrapes(&self.query, pods), self.output),
            Report::Stat => {
                let rows = if self.query.resource == ResourceKind::Service {
                    service_stat_from_scrapes(&self.query, services, pods)
                } else {
                    stat_from_scrapes(&self.query, pods)
                };
                format_stat_for(&self.query, &rows, self.output)
            }
        }
    }

    /// The output from the Prometheus at `url`; `pods` give the MESHED
    /// column of `viz stat`, `services` the rows of `viz stat svc`.
    pub async fn answer_from_prometheus(
        &self,
        url: &str,
        pods: &[PodInfo],
        services: &[ServiceRef],
    ) -> Result<String, VizError> {
        Ok(match self.report {
            Report::Authz => {
                format_authz(&authz_from_prometheus(url, &self.query).await?, self.output)
            }
            Report::Stat => {
                let rows = if self.query.resource == ResourceKind::Service {
                    service_stat_from_prometheus(url, &self.query, services).await?
                } else {
                    stat_from_prometheus(url, &self.query, pods).await?
                };
                format_stat_for(&self.query, &rows, self.output)
            }
        })
    }
}

/// The resource of a viz command as Linkerd's viz takes it: `deploy`,
/// `deploy/bb` or `deploy bb`, with kubectl's names of each kind (`po`,
/// `pod`, `pods`, `rs`, `sts`, `ns`, `svc`, ...); the kind and the name, if
/// one is given.
pub fn parse_resource(words: &[String]) -> Result<(ResourceKind, Option<String>), VizError> {
    let (kind, name) = match words {
        [one] => match one.split_once('/') {
            Some((kind, name)) => (kind, Some(name.to_string())),
            None => (one.as_str(), None),
        },
        [kind, name] => (kind.as_str(), Some(name.clone())),
        _ => return Err(VizError::Resource(words.join(" "))),
    };
    let kind = match kind {
        "deploy" | "deployment" | "deployments" => ResourceKind::Deployment,
        "po" | "pod" | "pods" => ResourceKind::Pod,
        "rs" | "replicaset" | "replicasets" => ResourceKind::ReplicaSet,
        "sts" | "statefulset" | "statefulsets" => ResourceKind::StatefulSet,
        "ns" | "namespace" | "namespaces" => ResourceKind::Namespace,
        "svc" | "service" | "services" => ResourceKind::Service,
        other => return Err(VizError::ResourceKind(other.to_string())),
    };
    Ok((kind, name.filter(|n| !n.is_empty())))
}

impl PodInfo {
    /// A pod as the cluster has it: meshed when a proxy container runs in
    /// it, its Deployment from its ReplicaSet owner.
    pub fn of(pod: &Pod) -> PodInfo {
        PodInfo {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            deployment: strait_api::pod::deployment_of(pod),
            replicaset: strait_api::pod::controller_of(pod, "ReplicaSet"),
            statefulset: strait_api::pod::controller_of(pod, "StatefulSet"),
            meshed: strait_sidecar::is_meshed(pod),
            ready: strait_api::pod::is_ready(pod),
        }
    }
}

#[cfg(test)]
mod tests;
