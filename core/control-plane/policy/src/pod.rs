//! What the index needs to know about a pod: labels, its default-policy
//! annotation, named container ports and HTTP probe paths per port.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::labels::DEFAULT_INBOUND_POLICY;
use strait_decisions::selector::Labels;

use crate::config::DefaultPolicy;

/// The facts of one pod the policy depends on, kept instead of the whole
/// Pod so that status updates which change none of them cause no work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PodInfo {
    /// The pod's labels, which Servers select.
    pub(crate) labels: Labels,
    /// The pod's own default policy; none when unset or not a policy name.
    pub(crate) default_policy: Option<DefaultPolicy>,
    /// Container ports by name, for Servers that name their port.
    pub(crate) named_ports: BTreeMap<String, u16>,
    /// Every declared container port, which the index tracks.
    pub(crate) ports: BTreeSet<u16>,
    /// HTTP probe paths by port (liveness, readiness, startup).
    pub(crate) probe_paths: BTreeMap<u16, BTreeSet<String>>,
    /// The ServiceAccount the pod runs as (`default` when unset), whose
    /// identity alone may ask for the pod's policies.
    pub(crate) service_account: String,
}

impl PodInfo {
    /// Reads a Pod; containers only, as Linkerd's policy controller does.
    pub(crate) fn from_pod(pod: &Pod) -> Self {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let default_policy = pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEFAULT_INBOUND_POLICY))
            .and_then(|v| v.trim().parse().ok());
        let containers: &[Container] = pod.spec.as_ref().map_or(&[], |s| &s.containers);
        let service_account = pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .filter(|sa| !sa.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let mut info = PodInfo {
            labels,
            default_policy,
            service_account,
            ..PodInfo::default()
        };
        for container in containers {
            for port in container.ports.iter().flatten() {
                let Ok(number) = u16::try_from(port.container_port) else {
                    continue;
                };
                info.ports.insert(number);
                if let Some(name) = &port.name {
                    info.named_ports.entry(name.clone()).or_insert(number);
                }
            }
        }
        for container in containers {
            let probes = [
                &container.liveness_probe,
                &container.readiness_probe,
                &container.startup_probe,
            ];
            for probe in probes.into_iter().flatten() {
                if let Some((port, path)) = http_probe(container, probe) {
                    info.probe_paths.entry(port).or_default().insert(path);
                }
            }
        }
        info
    }

    /// Resolves a Server's `port`: a number, or a container port name.
    pub(crate) fn resolve_port(&self, port: &IntOrString) -> Option<u16> {
        match port {
            IntOrString::Int(n) => u16::try_from(*n).ok().filter(|n| *n != 0),
            IntOrString::String(name) => self.named_ports.get(name).copied(),
        }
    }

    /// The ports worth tracking without being asked: declared and probed.
    pub(crate) fn known_ports(&self) -> BTreeSet<u16> {
        let mut ports = self.ports.clone();
        ports.extend(self.probe_paths.keys().copied());
        ports
    }
}

/// The port and path of an HTTP probe; a named port is looked up among the
/// probing container's own ports, and a missing path is `/` as kubelet uses.
fn http_probe(container: &Container, probe: &Probe) -> Option<(u16, String)> {
    let get = probe.http_get.as_ref()?;
    let port = match &get.port {
        IntOrString::Int(n) => u16::try_from(*n).ok()?,
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())?,
    };
    let path = get
        .path
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".to_string());
    Some((port, path))
}
