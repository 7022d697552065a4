//! What the index keeps of Services, Endpoints and EndpointSlices: only what
//! resolutions read, so that updates touching nothing else are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointSubset, Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use strait_api::IntOrString;
use strait_api::labels;
use strait_api::ports::{OPAQUE_PORTS_ANNOTATION, PortSet};

/// Label naming the Service an EndpointSlice belongs to.
const SLICE_SERVICE_NAME: &str = "kubernetes.io/service-name";

/// Where a Service port sends traffic on each backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TargetPort {
    /// This port on every backend.
    Number(u16),
    /// The container port of this name, which may differ between pods.
    Name(String),
}

/// One port of a Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServicePortInfo {
    /// The port's name; empty when the Service has a single unnamed port.
    pub(crate) name: String,
    pub(crate) port: u16,
    pub(crate) target: TargetPort,
}

/// The Service in a linked cluster that a remote-discovery mirror stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RemoteRef {
    pub(crate) cluster: String,
    pub(crate) service: String,
    /// For a per-pod mirror of a remote headless Service (`web-0-east`),
    /// the hostname of the one remote endpoint it stands for.
    pub(crate) hostname: Option<String>,
}

/// The members of a federated Service (Linkerd's `local-discovery` and
/// `remote-discovery` annotations): resolved as the union of their
/// endpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Federation {
    /// This cluster's member Service, by name.
    pub(crate) local: Option<String>,
    /// Linked clusters' member Services.
    pub(crate) remote: Vec<RemoteRef>,
}

/// What resolution needs of a Service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServiceInfo {
    pub(crate) cluster_ips: Vec<IpAddr>,
    pub(crate) ports: Vec<ServicePortInfo>,
    /// Set on a remote-discovery mirror: resolve through the linked
    /// cluster's endpoints instead of our own.
    pub(crate) remote: Option<RemoteRef>,
    /// Set on a federated Service: resolve through every member.
    pub(crate) federated: Option<Federation>,
    /// The remote Service's fully qualified name, from a mirror's
    /// annotation: the authority a gateway mirror's requests are
    /// rewritten to.
    pub(crate) remote_fq_name: Option<String>,
    /// Whether the Service is exported through this cluster's gateway
    /// (`mirror.linkerd.io/exported=true`): the only Services a gateway
    /// forwards to.
    pub(crate) gateway_exported: bool,
    /// Whether the Service is headless (`clusterIP: None`): only then do
    /// its endpoints have names of their own.
    pub(crate) headless: bool,
    /// The Service ports its `config.linkerd.io/opaque-ports` annotation
    /// lists (none when it has none or it does not parse): their meshed
    /// endpoints are reached through the proxy's inbound port.
    pub(crate) opaque_ports: PortSet,
}

impl ServiceInfo {
    pub(crate) fn from_service(service: &Service) -> Self {
        let spec = service.spec.as_ref();
        let mut cluster_ips: Vec<IpAddr> = spec
            .and_then(|s| s.cluster_ips.as_ref())
            .into_iter()
            .flatten()
            .chain(spec.and_then(|s| s.cluster_ip.as_ref()))
            .filter_map(|ip| ip.parse().ok())
            .collect();
        cluster_ips.sort();
        cluster_ips.dedup();
        let ports = spec
            .and_then(|s| s.ports.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let port = u16::try_from(p.port).ok()?;
                let target = match &p.target_port {
                    None => TargetPort::Number(port),
                    Some(IntOrString::Int(n)) => TargetPort::Number(u16::try_from(*n).ok()?),
                    Some(IntOrString::String(name)) => match name.parse::<u16>() {
                        Ok(n) => TargetPort::Number(n),
                        Err(_) => TargetPort::Name(name.clone()),
                    },
                };
                Some(ServicePortInfo {
                    name: p.name.clone().unwrap_or_default(),
                    port,
                    target,
                })
            })
            .collect();
        let service_labels = service.metadata.labels.as_ref();
        let label = |key: &str| service_labels.and_then(|l| l.get(key)).cloned();
        let remote = match (
            label(labels::REMOTE_DISCOVERY),
            label(labels::REMOTE_SERVICE),
        ) {
            (Some(cluster), Some(service)) if !cluster.is_empty() && !service.is_empty() => {
                Some(RemoteRef {
                    cluster,
                    service,
                    hostname: None,
                })
            }
            _ => None,
        };
        let remote_fq_name = service
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(labels::REMOTE_SVC_FQ_NAME))
            .filter(|name| !name.is_empty())
            .cloned();
        let annotations = service.metadata.annotations.as_ref();
        let annotation = |key: &str| annotations.and_then(|a| a.get(key));
        let federated = (annotation(labels::LOCAL_DISCOVERY).is_some()
            || annotation(labels::REMOTE_DISCOVERY).is_some())
        .then(|| Federation {
            local: annotation(labels::LOCAL_DISCOVERY)
                .filter(|s| !s.is_empty())
                .cloned(),
            remote: annotation(labels::REMOTE_DISCOVERY)
                .map(|list| labels::remote_discovery_members(list).0)
                .unwrap_or_default()
                .into_iter()
                .map(|m| RemoteRef {
                    cluster: m.cluster,
                    service: m.service,
                    hostname: None,
                })
                .collect(),
        });
        // A per-pod mirror's remote name is the remote Pod's own
        // (`web-0.web.<ns>.svc.<domain>`): its first label is the hostname.
        let per_pod = label(labels::MIRRORED_HEADLESS_SVC_NAME).is_some();
        let remote = remote.map(|remote| RemoteRef {
            hostname: remote_fq_name
                .as_deref()
                .filter(|_| per_pod)
                .and_then(pod_hostname_of),
            ..remote
        });
        ServiceInfo {
            cluster_ips,
            ports,
            remote,
            federated,
            remote_fq_name,
            gateway_exported: label(labels::EXPORTED).as_deref() == Some(labels::EXPORTED_GATEWAY),
            headless: strait_api::service::is_headless(service),
            opaque_ports: opaque_ports(annotations),
        }
    }

    /// Whether resolving this Service reads linked cluster `cluster`'s
    /// endpoints (a remote-discovery mirror of it, or a federated Service
    /// with a member there).
    pub(crate) fn reads_cluster(&self, cluster: &str) -> bool {
        self.remote.as_ref().is_some_and(|r| r.cluster == cluster)
            || self
                .federated
                .as_ref()
                .is_some_and(|f| f.remote.iter().any(|r| r.cluster == cluster))
    }

    pub(crate) fn port(&self, port: u16) -> Option<&ServicePortInfo> {
        self.ports.iter().find(|p| p.port == port)
    }
}

/// The hostname of a Pod's fully qualified name
/// (`<hostname>.<svc>.<ns>.svc.<domain>`).
fn pod_hostname_of(name: &str) -> Option<String> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    match labels.as_slice() {
        [host, _, _, "svc", _, ..] if !host.is_empty() => Some(host.to_string()),
        _ => None,
    }
}

/// A ready address and the pod behind it, when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Backend {
    pub(crate) ip: IpAddr,
    /// The name of the pod in `targetRef`, for its identity and labels.
    pub(crate) pod: Option<String>,
    /// The endpoint's hostname, under which a headless Service names it.
    pub(crate) hostname: Option<String>,
}

/// Ready addresses sharing one list of ports: an Endpoints subset or an
/// EndpointSlice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddressGroup {
    pub(crate) ready: Vec<Backend>,
    /// The hostnames of every address, ready or not: the names the Service
    /// has for its Pods, whether or not they take traffic now.
    pub(crate) hostnames: BTreeSet<String>,
    /// Port numbers by the name of the Service port they serve (empty for
    /// an unnamed port).
    pub(crate) ports: BTreeMap<String, u16>,
}

impl AddressGroup {
    /// The number serving the Service port named `name`; a group with a
    /// single port serves the Service's single port whatever it is called.
    pub(crate) fn port_for(&self, name: &str) -> Option<u16> {
        match self.ports.get(name) {
            Some(port) => Some(*port),
            None if self.ports.len() == 1 => self.ports.values().next().copied(),
            None => None,
        }
    }
}

/// What resolution needs of an Endpoints object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EndpointsInfo {
    /// Set on a gateway mirror's Endpoints: the identity of the gateway that
    /// every address of it is.
    pub(crate) gateway_identity: Option<String>,
    pub(crate) groups: Vec<AddressGroup>,
}

impl EndpointsInfo {
    pub(crate) fn from_endpoints(endpoints: &Endpoints) -> Self {
        let gateway_identity = endpoints
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(labels::REMOTE_GATEWAY_IDENTITY))
            .filter(|id| !id.is_empty())
            .cloned();
        let groups = endpoints
            .subsets
            .iter()
            .flatten()
            .map(subset_group)
            .collect();
        EndpointsInfo {
            gateway_identity,
            groups,
        }
    }
}

fn subset_group(subset: &EndpointSubset) -> AddressGroup {
    let backend = |a: &EndpointAddress| {
        Some(Backend {
            ip: a.ip.parse().ok()?,
            pod: pod_name(a.target_ref.as_ref()),
            hostname: a.hostname.clone().filter(|h| !h.is_empty()),
        })
    };
    AddressGroup {
        hostnames: subset
            .addresses
            .iter()
            .flatten()
            .chain(subset.not_ready_addresses.iter().flatten())
            .filter_map(|a| a.hostname.clone())
            .filter(|h| !h.is_empty())
            .collect(),
        // Only `addresses`: `notReadyAddresses` must receive no traffic.
        ready: subset
            .addresses
            .iter()
            .flatten()
            .filter_map(backend)
            .collect(),
        ports: subset
            .ports
            .iter()
            .flatten()
            .filter_map(|p| {
                Some((
                    p.name.clone().unwrap_or_default(),
                    u16::try_from(p.port).ok()?,
                ))
            })
            .collect(),
    }
}

/// What resolution needs of an EndpointSlice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SliceInfo {
    /// The Service the slice belongs to.
    pub(crate) service: String,
    pub(crate) group: AddressGroup,
}

impl SliceInfo {
    pub(crate) fn from_slice(slice: &EndpointSlice) -> Self {
        let service = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SLICE_SERVICE_NAME))
            .cloned()
            .unwrap_or_default();
        // An absent `ready` condition means ready, as Kubernetes defines it.
        let ready = slice
            .endpoints
            .iter()
            .flatten()
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
            .flat_map(|e| {
                let pod = pod_name(e.target_ref.as_ref());
                let hostname = e.hostname.clone().filter(|h| !h.is_empty());
                e.addresses.iter().filter_map(move |a| {
                    Some(Backend {
                        ip: a.parse().ok()?,
                        pod: pod.clone(),
                        hostname: hostname.clone(),
                    })
                })
            })
            .collect();
        let hostnames = slice
            .endpoints
            .iter()
            .flatten()
            .filter_map(|e| e.hostname.clone())
            .filter(|h| !h.is_empty())
            .collect();
        let ports = slice
            .ports
            .iter()
            .flatten()
            .filter_map(|p| {
                let port = u16::try_from(p.port?).ok()?;
                Some((p.name.clone().unwrap_or_default(), port))
            })
            .collect();
        SliceInfo {
            service,
            group: AddressGroup {
                ready,
                hostnames,
                ports,
            },
        }
    }
}

fn pod_name(target: Option<&k8s_openapi::api::core::v1::ObjectReference>) -> Option<String> {
    let target = target?;
    if target.kind.as_deref().is_some_and(|k| k != "Pod") {
        return None;
    }
    target.name.clone()
}

/// The ports an object's `config.linkerd.io/opaque-ports` annotation
/// lists. One that does not parse lists none: the ports are then served
/// as if unannotated, as the policy controller serves them.
pub(crate) fn opaque_ports(annotations: Option<&BTreeMap<String, String>>) -> PortSet {
    annotations
        .and_then(|a| a.get(OPAQUE_PORTS_ANNOTATION))
        .and_then(|list| list.parse().ok())
        .unwrap_or_default()
}
