//! A Link read into what the mirror needs, with its faults found up front.

use std::fmt;
use std::time::Duration;

use strait_api::go_duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sSelector;
use strait_api::link::Link;
use strait_decisions::export::Link as ExportLink;
use strait_decisions::selector::{LabelSelector, Operator, Requirement};

/// Why a Link cannot drive a mirror; names the Link and the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkError {
    /// `namespace/name` of the Link.
    pub link: String,
    /// The field at fault and what is wrong with it.
    pub reason: String,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link {}: {}", self.link, self.reason)
    }
}

impl std::error::Error for LinkError {}

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
        let err = |reason: String| LinkError {
            link: format!("{namespace}/{name}"),
            reason,
        };
        let spec = &link.spec;
        let target_cluster_name = spec
            .target_cluster_name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| err("spec.targetClusterName is required".into()))?;
        let gateway = match spec
            .gateway_address
            .as_deref()
            .filter(|a| !a.trim().is_empty())
        {
            None => None,
            Some(addresses) => {
                let port = spec.gateway_port.as_deref().unwrap_or("");
                let port = port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    err(format!(
                        "spec.gatewayPort {port:?} is not a port number (a string such as \"4143\")"
                    ))
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
        let selector = |field: &str, s: &Option<K8sSelector>| {
            s.as_ref()
                .map(|s| convert_selector(s).map_err(|e| err(format!("spec.{field}: {e}"))))
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
        };
        Ok(LinkConfig {
            name,
            namespace,
            target_cluster_name,
            target_cluster_domain: spec
                .target_cluster_domain
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "cluster.local".into()),
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
fn probe(spec: &strait_api::link::ProbeSpec) -> Result<Probe, String> {
    let port = spec.port.as_deref().unwrap_or("");
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("spec.probeSpec.port {port:?} is not a port number"))?;
    let duration = |field: &str, value: Option<&str>, default: Duration| match value {
        None | Some("") => Ok(default),
        Some(text) => go_duration(text).filter(|d| !d.is_zero()).ok_or_else(|| {
            format!("spec.probeSpec.{field} {text:?} is not a duration (e.g. \"3s\")")
        }),
    };
    let failure_threshold = match spec.failure_threshold.as_deref() {
        None | Some("") => 3,
        Some(text) => text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
            format!("spec.probeSpec.failureThreshold {text:?} is not a positive number")
        })?,
    };
    Ok(Probe {
        path: spec
            .path
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/ready".into()),
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

fn convert_selector(s: &K8sSelector) -> Result<LabelSelector, String> {
    let match_expressions = s
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            let operator: Operator = e
                .operator
                .parse()
                .map_err(|err: strait_decisions::selector::SelectorError| err.reason)?;
            let requirement = Requirement {
                key: e.key.clone(),
                operator,
                values: e.values.clone().unwrap_or_default(),
            };
            requirement.validate().map_err(|err| err.to_string())?;
            Ok(requirement)
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(LabelSelector {
        match_labels: s.match_labels.clone().unwrap_or_default(),
        match_expressions,
    })
}

#[cfg(test)]
mod tests;
