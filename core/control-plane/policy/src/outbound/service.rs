//! A Service as the outbound index keeps it: the addresses a client
//! connects to, its ports, and which of them are opaque.

use std::collections::BTreeSet;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::Service;
use strait_api::service::CLUSTER_IP_NONE;

use strait_api::ports::{OPAQUE_PORTS_ANNOTATION, PortSet};

/// What outbound policy reads of a Service; equal values mean no client
/// sees a change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ServiceInfo {
    /// Every cluster IP (one per address family); none when headless.
    pub(super) cluster_ips: Vec<IpAddr>,
    /// The ports the Service declares.
    pub(super) ports: BTreeSet<u16>,
    /// The ports its `config.linkerd.io/opaque-ports` annotation lists;
    /// none without the annotation, or with one that cannot be read
    /// (Linkerd then uses the install's default too).
    pub(super) opaque_ports: Option<PortSet>,
}

impl ServiceInfo {
    pub(super) fn from_service(service: &Service) -> Self {
        let spec = service.spec.as_ref();
        let mut ips: Vec<&String> = spec
            .and_then(|s| s.cluster_ips.as_ref())
            .map(|ips| ips.iter().collect())
            .unwrap_or_default();
        if ips.is_empty()
            && let Some(ip) = spec.and_then(|s| s.cluster_ip.as_ref())
        {
            ips.push(ip);
        }
        let cluster_ips = ips
            .into_iter()
            .filter(|ip| ip.as_str() != CLUSTER_IP_NONE)
            .filter_map(|ip| ip.parse().ok())
            .collect();
        let ports = spec
            .and_then(|s| s.ports.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|p| u16::try_from(p.port).ok())
            .filter(|p| *p != 0)
            .collect();
        let opaque_ports = service
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(OPAQUE_PORTS_ANNOTATION))
            .and_then(|list| list.parse().ok());
        ServiceInfo {
            cluster_ips,
            ports,
            opaque_ports,
        }
    }
}
