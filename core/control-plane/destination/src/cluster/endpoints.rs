//! The endpoints of a Service port in one cluster.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::resources::{AddressGroup, Backend, TargetPort};
use super::{ClusterIndex, Key};
use crate::endpoint::{Endpoint, EndpointSet, ProtocolHint};
use crate::pod::PodInfo;

impl ClusterIndex {
    /// The ready endpoints of port `port` of Service `namespace/name` as
    /// this cluster's own resources list them; `None` when there is no such
    /// Service (a Service without ready endpoints has an empty set).
    ///
    /// This does not follow remote-discovery mirrors (they have no
    /// endpoints here); [`crate::Clusters::endpoints`] does.
    ///
    /// - A gateway mirror (its Endpoints carry the gateway identity
    ///   annotation) resolves through those Endpoints, each address with the
    ///   gateway's identity and the gateway's port, and with the remote
    ///   Service's name and port as the authority to send (from the
    ///   mirror's `remote-svc-fq-name` annotation) so the gateway can route
    ///   the request. This comes first because
    ///   the EndpointSlices Kubernetes mirrors from such Endpoints lose the
    ///   annotation.
    /// - Otherwise the Service's EndpointSlices when it has any, else its
    ///   Endpoints, ready addresses only, each mapped through the Service
    ///   port's targetPort (a name is looked up among the pod's container
    ///   ports), with the pod's identity only when it is meshed: when it
    ///   runs the proxy container ([`strait_sidecar::is_meshed`]; the
    ///   `linkerd.io/inject` annotation alone does not prove a proxy is
    ///   there to present that identity).
    ///
    /// A port the Service does not declare is served on the same number on
    /// each backend, as Linkerd does.
    pub fn local_endpoints(&self, namespace: &str, name: &str, port: u16) -> Option<EndpointSet> {
        self.named_endpoints(namespace, name, port, None)
    }

    /// [`ClusterIndex::local_endpoints`], of only the endpoints with
    /// `hostname` when one is given (a Pod's own name under a headless
    /// Service), as Linkerd's destination filters them.
    pub(crate) fn named_endpoints(
        &self,
        namespace: &str,
        name: &str,
        port: u16,
        hostname: Option<&str>,
    ) -> Option<EndpointSet> {
        let key: Key = (namespace.to_string(), name.to_string());
        let named =
            |backend: &Backend| hostname.is_none() || backend.hostname.as_deref() == hostname;
        let service = self.services.get(&key)?;
        let service_port = service.port(port);
        let port_name = service_port.map(|p| p.name.as_str()).unwrap_or_default();
        let opaque = service.opaque_ports.contains(port);
        let target = service_port
            .map(|p| p.target.clone())
            .unwrap_or(TargetPort::Number(port));
        let mut set = EndpointSet::default();

        let endpoints = self.endpoints.get(&key);
        if let Some(identity) = endpoints.and_then(|e| e.gateway_identity.as_ref()) {
            let authority_override = service
                .remote_fq_name
                .as_ref()
                .map(|name| format!("{name}:{port}"));
            for group in endpoints.iter().flat_map(|e| &e.groups) {
                let Some(gateway_port) = group.port_for(port_name) else {
                    continue;
                };
                for backend in group.ready.iter().filter(|b| named(b)) {
                    set.insert(Endpoint {
                        address: SocketAddr::new(backend.ip, gateway_port),
                        identity: Some(identity.clone()),
                        protocol_hint: ProtocolHint::H2,
                        opaque: false,
                        labels: BTreeMap::new(),
                        authority_override: authority_override.clone(),
                    });
                }
            }
            return Some(set);
        }

        for group in self.groups(namespace, name) {
            for backend in group.ready.iter().filter(|b| named(b)) {
                let pod = self.pod_of(namespace, backend);
                let target_port = match &target {
                    TargetPort::Number(n) => Some(*n),
                    TargetPort::Name(container_port) => pod
                        .and_then(|p| p.named_ports.get(container_port).copied())
                        .or_else(|| group.port_for(port_name)),
                };
                let Some(target_port) = target_port else {
                    continue;
                };
                set.insert(self.pod_endpoint(
                    namespace,
                    SocketAddr::new(backend.ip, target_port),
                    pod,
                    opaque,
                ));
            }
        }
        Some(set)
    }

    /// The address groups of Service `namespace/name`: its EndpointSlices
    /// when it has any, else its Endpoints.
    fn groups(&self, namespace: &str, name: &str) -> Vec<&AddressGroup> {
        let slices: Vec<&AddressGroup> = self
            .slices
            .range((namespace.to_string(), String::new())..)
            .take_while(|((ns, _), _)| ns == namespace)
            .filter(|(_, slice)| slice.service == name)
            .map(|(_, slice)| &slice.group)
            .collect();
        if slices.is_empty() {
            let key: Key = (namespace.to_string(), name.to_string());
            self.endpoints
                .get(&key)
                .into_iter()
                .flat_map(|e| &e.groups)
                .collect()
        } else {
            slices
        }
    }

    /// Whether an endpoint of Service `namespace/name`, ready or not, has
    /// `hostname`: whether the Pod's name under the Service exists.
    pub(crate) fn has_hostname(&self, namespace: &str, name: &str, hostname: &str) -> bool {
        self.groups(namespace, name)
            .iter()
            .any(|g| g.hostnames.contains(hostname))
    }

    /// The pod behind an address: the one its `targetRef` names, else the
    /// one in the namespace with that IP.
    fn pod_of(&self, namespace: &str, backend: &Backend) -> Option<&PodInfo> {
        if let Some(name) = &backend.pod {
            return self.pods.get(&(namespace.to_string(), name.clone()));
        }
        self.pods
            .range((namespace.to_string(), String::new())..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|(_, pod)| pod)
            .find(|pod| pod.ips.contains(&backend.ip))
    }

    /// The endpoint of `pod` (in `namespace`) at `address`: the pod's
    /// identity and the HTTP/2 hint only when it is meshed, its metric
    /// labels, and whether the port is opaque (`service_opaque`, when the
    /// Service's annotation lists the Service port, or the pod's own
    /// annotation lists the container port); without a pod,
    /// [`Endpoint::unknown`]. Every lookup, by Service or by address,
    /// builds its endpoints here.
    pub(super) fn pod_endpoint(
        &self,
        namespace: &str,
        address: SocketAddr,
        pod: Option<&PodInfo>,
        service_opaque: bool,
    ) -> Endpoint {
        let Some(pod) = pod else {
            return Endpoint::unknown(address);
        };
        let (identity, protocol_hint) = if pod.meshed {
            (
                Some(self.config.identity(&pod.service_account, namespace)),
                ProtocolHint::H2,
            )
        } else {
            (None, ProtocolHint::Unknown)
        };
        Endpoint {
            address,
            identity,
            protocol_hint,
            opaque: service_opaque || pod.opaque_ports.contains(address.port()),
            labels: pod.metric_labels.clone(),
            authority_override: None,
        }
    }
}
