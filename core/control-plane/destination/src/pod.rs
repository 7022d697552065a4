//! What the index keeps of a pod: what endpoints need from it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Container, Pod};
use strait_api::ports::PortSet;

use crate::cluster::opaque_ports;

/// Label that the ReplicaSet controller adds to its pods, the suffix of the
/// ReplicaSet's name after the Deployment's.
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The phases of a pod whose containers have all stopped for good. Such a
/// pod keeps its IP in its status after the network has given the IP to
/// another pod.
const FINISHED_PHASES: [&str; 2] = ["Succeeded", "Failed"];

/// The parts of a pod that endpoints are built from; compared to skip
/// updates that change nothing a client sees.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PodInfo {
    pub(crate) ips: Vec<IpAddr>,
    pub(crate) service_account: String,
    /// Whether the pod runs a proxy ([`strait_sidecar::is_meshed`]): only then
    /// is its identity announced, since only then does something terminate
    /// TLS there.
    pub(crate) meshed: bool,
    /// Whether the pod's IPs are its own, so that a lookup by address may
    /// name it: not when it runs on the host's network (its IP is the
    /// node's, shared with the node and every other such pod) nor once it
    /// has finished (its IP may already be another pod's).
    pub(crate) owns_ips: bool,
    /// Named container ports, for Services whose targetPort is a name.
    pub(crate) named_ports: BTreeMap<String, u16>,
    /// Labels describing the pod for client metrics.
    pub(crate) metric_labels: BTreeMap<String, String>,
    /// The container ports the pod's own `config.linkerd.io/opaque-ports`
    /// annotation lists.
    pub(crate) opaque_ports: PortSet,
}

impl PodInfo {
    pub(crate) fn from_pod(pod: &Pod) -> Self {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let spec = pod.spec.as_ref();
        let service_account = spec
            .and_then(|s| s.service_account_name.clone())
            .filter(|sa| !sa.is_empty())
            .unwrap_or_else(|| "default".into());
        let containers: Vec<&Container> = spec
            .into_iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .collect();
        let meshed = strait_sidecar::is_meshed(pod);
        let named_ports = containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter_map(|p| {
                let name = p.name.clone()?;
                Some((name, u16::try_from(p.container_port).ok()?))
            })
            .collect();
        let status = pod.status.as_ref();
        let host_network = spec.and_then(|s| s.host_network) == Some(true);
        let finished = status
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|phase| FINISHED_PHASES.contains(&phase));
        let mut ips: Vec<IpAddr> = status
            .and_then(|s| s.pod_ips.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|ip| ip.ip.parse().ok())
            .collect();
        if let Some(ip) = status
            .and_then(|s| s.pod_ip.as_deref())
            .and_then(|ip| ip.parse().ok())
            .filter(|ip| !ips.contains(ip))
        {
            ips.push(ip);
        }
        let mut metric_labels = BTreeMap::from([
            ("pod".to_string(), name),
            ("namespace".to_string(), namespace),
            ("serviceaccount".to_string(), service_account.clone()),
        ]);
        metric_labels.extend(owner_labels(pod));
        PodInfo {
            ips,
            service_account,
            meshed,
            owns_ips: !host_network && !finished,
            named_ports,
            metric_labels,
            opaque_ports: opaque_ports(pod.metadata.annotations.as_ref()),
        }
    }
}

/// The workload labels Linkerd's metrics use, from the pod's controller
/// owner: its kind in lower case with its name, and for a ReplicaSet made by
/// a Deployment (its name is the Deployment's plus the pod's
/// `pod-template-hash`) the Deployment too, without reading ReplicaSets.
fn owner_labels(pod: &Pod) -> Vec<(String, String)> {
    let owners = pod.metadata.owner_references.iter().flatten();
    let Some(owner) = owners
        .clone()
        .find(|o| o.controller == Some(true))
        .or_else(|| owners.clone().next())
    else {
        return Vec::new();
    };
    let kind = owner.kind.to_ascii_lowercase();
    let mut labels = vec![(kind.clone(), owner.name.clone())];
    if kind == "replicaset" {
        let hash = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(POD_TEMPLATE_HASH));
        if let Some(deployment) = hash.and_then(|h| {
            owner
                .name
                .strip_suffix(h.as_str())
                .and_then(|d| d.strip_suffix('-'))
        }) {
            labels.push(("deployment".to_string(), deployment.to_string()));
        }
    }
    labels
}
