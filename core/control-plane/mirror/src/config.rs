//! A Link read into what the mirror needs, with its faults found up front.

use std::time::Duration;

use strait_api::go_duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sSelector;
use strait_api::link::Link;
use strait_decisions::export::Link as ExportLink;
use strait_decisions::selector::{LabelSelector, Operator, Requirement, SelectorError};
use strait_mesh::names::{DEFAULT_CLUSTER_DOMAIN, READY_PATH};

/// Why a Link cannot drive a mirror; names the Link and the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("link {link}: {fault}")]
pub struct LinkError {
    /// `namespace/name` of the Link.
    pub link: String,
    /// The field at fault and what is wrong with it.
    #[source]
    pub fault: LinkFault,
}

/// What is wrong with a Link's spec; each variant names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkFault {
    /// No `targetClusterName`: mirrors could not be named.
    #[error("spec.targetClusterName is required")]
    NoTargetClusterName,
    /// A gateway address with a `gatewayPort` that is no port.
    #[error("spec.gatewayPort {value:?} is not a port number (a string such as \"4143\")")]
    GatewayPort {
        /// The value as written (empty when unset).
        value: String,
    },
    /// A `probeSpec.port` that is no port.
    #[error("spec.probeSpec.port {value:?} is not a port number")]
    ProbePort {
        /// The value as written (empty when unset).
        value: String,
    },
    /// A `probeSpec` period or timeout that is no positive Go duration.
    #[error("spec.probeSpec.{field} {value:?} is not a duration (e.g. \"3s\")")]
    ProbeDuration {
        /// `period` or `timeout`.
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// A `probeSpec.failureThreshold` that is no positive number.
    #[error("spec.probeSpec.failureThreshold {value:?} is not a positive number")]
    FailureThreshold {
        /// The value as written.
        value: String,
    },
    /// A malformed `matchExpressions` entry of a selector.
    #[error(
        "spec.{selector}: {} in matchExpressions[{index}] (key {:?})",
        .source.reason,
        .source.key
    )]
    Selector {
        /// `selector`, `remoteDiscoverySelector` or `federatedServiceSelector`.
        selector: &'static str,
        /// The entry's position.
        index: usize,
        /// What is wrong with it.
        #[source]
        source: SelectorError,
    },
}

/// The gateway of a gateway-mode Link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gateway {
    /// Addresses mirror Endpoints point at.
    pub addresses: Vec<String>,
    /// The port every mirrored port maps to.
    pub port: u16,
    /// The TLS identity clients verify.
    pub identity: String,
    /// How the gateway's liveness is probed; none when the Link has no probe.
    pub probe: Option<Probe>,
}

/// The gateway liveness probe of a Link (`probeSpec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// HTTP path probed, e.g. `/ready`.
    pub path: String,
    /// Port probed on each gateway address.
    pub port: u16,
    /// Time between probes.
    pub period: Duration,
    /// Time one probe may take.
    pub timeout: Duration,
    /// Consecutive failures after which the gateway counts as down.
    pub failure_threshold: u32,
}

/// What the mirror of one Link works from.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// The Link's name.
    pub name: String,
    /// The Link's namespace (the control plane's).
    pub namespace: String,
    /// `targetClusterName`: the mirrors' suffix and cluster-name label.
    pub target_cluster_name: String,
    /// `targetClusterDomain`, default `cluster.local`.
    pub target_cluster_domain: String,
    /// The gateway, when the Link has one.
    pub gateway: Option<Gateway>,
    /// What the export plugin is given.
    pub export: ExportLink,
    excluded_labels: Vec<String>,
    excluded_annotations: Vec<String>,
}

impl LinkConfig {
    /// Reads a Link. A Link without `targetClusterName`, with a gateway
    /// address but no valid port, or with a malformed selector is refused.
    pub fn from_link(link: &Link) -> Result<Self, LinkError> {
        let namespace = link
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = link.metadata.name.clone().unwrap_or_default();
        let err = |fault| LinkError {
            link: format!("{namespace}/{name}"),
            fault,
        };
        let spec = &link.spec;
        let target_cluster_name = spec
            .target_cluster_name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| err(LinkFault::NoTargetClusterName))?;
        let gateway = match spec
            .gateway_address
            .as_deref()
            .filter(|a| !a.trim().is_empty())
        {
            None => None,
            Some(addresses) => {
                let port = spec.gateway_port.as_deref().unwrap_or("");
                let port = port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    err(LinkFault::GatewayPort {
                        value: port.to_string(),
                    })
                })?;
                Some(Gateway {
                    addresses: addresses
                        .split(',')
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty())
                        .collect(),
                    port,
                    identity: spec.gateway_identity.clone().unwrap_or_default(),
                    probe: spec
                        .probe_spec
                        .as_ref()
                        .map(probe)
                        .transpose()
                        .map_err(err)?,
                })
            }
        };
        let selector = |field: &'static str, s: &Option<K8sSelector>| {
            s.as_ref()
                .map(|s| {
                    convert_selector(s).map_err(|(index, source)| {
                        err(LinkFault::Selector {
                            selector: field,
                            index,
                            source,
                        })
                    })
                })
                .transpose()
        };
        let export = ExportLink {
            name: name.clone(),
            target_cluster_name: target_cluster_name.clone(),
            selector: selector("selector", &spec.selector)?,
            remote_discovery_selector: selector(
                "remoteDiscoverySelector",
                &spec.remote_discovery_selector,
            )?,
            has_gateway: gateway.is_some(),
            federated_selector: selector(
                "federatedServiceSelector",
                &spec.federated_service_selector,
            )?,
        };
        Ok(LinkConfig {
            name,
            namespace,
            target_cluster_name,
            target_cluster_domain: spec
                .target_cluster_domain
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| DEFAULT_CLUSTER_DOMAIN.into()),
            gateway,
            export,
            excluded_labels: spec.excluded_labels.clone().unwrap_or_default(),
            excluded_annotations: spec.excluded_annotations.clone().unwrap_or_default(),
        })
    }

    /// `<service>-<target cluster name>`.
    pub fn mirror_name(&self, service: &str) -> String {
        format!("{service}-{}", self.target_cluster_name)
    }

    /// `<service>.<namespace>.svc.<target cluster domain>`.
    pub fn remote_fq_name(&self, service: &str, namespace: &str) -> String {
        format!("{service}.{namespace}.svc.{}", self.target_cluster_domain)
    }

    /// Whether a remote label is kept off mirrors (`mirror.linkerd.io/*`
    /// always, plus the Link's `excludedLabels`).
    pub fn excludes_label(&self, key: &str) -> bool {
        key.starts_with("mirror.linkerd.io/") || excluded(&self.excluded_labels, key)
    }

    /// Whether a remote annotation is kept off mirrors.
    pub fn excludes_annotation(&self, key: &str) -> bool {
        key.starts_with("mirror.linkerd.io/")
            || key == "kubectl.kubernetes.io/last-applied-configuration"
            || excluded(&self.excluded_annotations, key)
    }
}

/// Reads `probeSpec`, whose values are all strings as in Linkerd: `port`
/// a number, `period` and `timeout` Go durations, `failureThreshold` a number.
fn probe(spec: &strait_api::link::ProbeSpec) -> Result<Probe, LinkFault> {
    let port = spec.port.as_deref().unwrap_or("");
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| LinkFault::ProbePort {
            value: port.to_string(),
        })?;
    let duration = |field, value: Option<&str>, default: Duration| match value {
        None | Some("") => Ok(default),
        Some(text) => {
            go_duration(text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| LinkFault::ProbeDuration {
                    field,
                    value: text.to_string(),
                })
        }
    };
    let failure_threshold = match spec.failure_threshold.as_deref() {
        None | Some("") => 3,
        Some(text) => text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
            LinkFault::FailureThreshold {
                value: text.to_string(),
            }
        })?,
    };
    Ok(Probe {
        path: spec
            .path
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| READY_PATH.into()),
        port,
        period: duration("period", spec.period.as_deref(), Duration::from_secs(3))?,
        timeout: duration("timeout", spec.timeout.as_deref(), Duration::from_secs(30))?,
        failure_threshold,
    })
}

/// Exact keys, or `prefix/*` for every key under a prefix.
fn excluded(patterns: &[String], key: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix("/*") {
        Some(prefix) => key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/')),
        None => p == key,
    })
}

/// A Kubernetes selector in the decision crate's form, or the position of
/// the first malformed `matchExpressions` entry and what is wrong with it.
pub(crate) fn convert_selector(s: &K8sSelector) -> Result<LabelSelector, (usize, SelectorError)> {
    let match_expressions = s
        .match_expressions
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, e)| {
            let requirement = Requirement {
                key: e.key.clone(),
                operator: e.operator.parse::<Operator>().map_err(|source| {
                    let source = SelectorError {
                        key: e.key.clone(),
                        ..source
                    };
                    (index, source)
                })?,
                values: e.values.clone().unwrap_or_default(),
            };
            requirement.validate().map_err(|source| (index, source))?;
            Ok(requirement)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LabelSelector {
        match_labels: s.match_labels.clone().unwrap_or_default(),
        match_expressions,
    })
}

#[cfg(test)]
mod tests;
