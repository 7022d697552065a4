//! Multicluster export: how a Service of a target cluster is mirrored through a
//! Link, with Linkerd's label conventions.

use crate::selector::{LabelSelector, Labels};

/// A port of a remote Service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServicePort {
    /// Port name; empty when unnamed.
    pub name: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The Service port.
    pub port: u16,
    /// `targetPort` as written (number or name); empty when unset.
    pub target_port: String,
}

/// A Service of the target cluster, as the service mirror sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteService {
    /// Namespace of the Service (and of its mirror).
    pub namespace: String,
    /// Service name; the mirror is `<name>-<target cluster name>`.
    pub name: String,
    /// Labels of the remote Service.
    pub labels: Labels,
    /// Annotations of the remote Service.
    pub annotations: Labels,
    /// Ports of the remote Service.
    pub ports: Vec<ServicePort>,
    /// Whether `clusterIP: None`.
    pub headless: bool,
}

/// The Link a Service is seen through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// The Link resource's name.
    pub name: String,
    /// `targetClusterName`.
    pub target_cluster_name: String,
    /// `selector`, for gateway mode.
    pub selector: Option<LabelSelector>,
    /// `remoteDiscoverySelector`, for pod-to-pod mode.
    pub remote_discovery_selector: Option<LabelSelector>,
    /// Whether `gatewayAddress` is set.
    pub has_gateway: bool,
    /// `federatedServiceSelector`: Services that join the federated
    /// Service `<name>-federated` of the linking cluster.
    pub federated_selector: Option<LabelSelector>,
}

/// Labels and annotations a plugin adds to a mirror.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MirrorExtras {
    /// Extra labels.
    pub labels: Labels,
    /// Extra annotations.
    pub annotations: Labels,
}

/// How a remote Service is mirrored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportDecision {
    /// Not mirrored, with the reason.
    NotExported(String),
    /// Mirrored behind the Link's gateway.
    Gateway(MirrorExtras),
    /// Mirrored for direct pod-to-pod traffic.
    RemoteDiscovery(MirrorExtras),
}

/// Whether a remote Service joins the federated Service `<name>-federated`
/// of the linking cluster. Asked apart from [`ExportDecision`] because a
/// Service may be both mirrored (`<name>-<cluster>`) and a federated member,
/// as Linkerd does when it matches both selectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FederatedDecision {
    /// Not a member, with the reason.
    NotMember(String),
    /// A member; the extras go on the federated Service while this member
    /// is the one its metadata comes from.
    Member(MirrorExtras),
}

/// Linkerd's rule for federated members: a Service matching the Link's
/// `federatedServiceSelector` joins, unless it is headless (a federated
/// Service has no per-pod names to offer). An absent or empty selector
/// matches nothing.
pub fn decide_federated(service: &RemoteService, link: &Link) -> FederatedDecision {
    if !LabelSelector::matches_for_export(link.federated_selector.as_ref(), &service.labels) {
        return FederatedDecision::NotMember(format!(
            "service {}/{} does not match the federated service selector of link {}",
            service.namespace, service.name, link.name
        ));
    }
    if service.headless {
        return FederatedDecision::NotMember(format!(
            "service {}/{} is headless and cannot join a federated service",
            service.namespace, service.name
        ));
    }
    FederatedDecision::Member(MirrorExtras::default())
}

/// Linkerd's rule, each selector judged on its own: a Service matching the
/// remote-discovery selector is exported pod to pod; one matching the gateway
/// selector is exported through the gateway when the Link has one. An absent
/// or empty selector matches nothing. (Unlike Linkerd, an unset gateway
/// selector does not silently disable remote-discovery exports.)
pub fn decide(service: &RemoteService, link: &Link) -> ExportDecision {
    if LabelSelector::matches_for_export(link.remote_discovery_selector.as_ref(), &service.labels) {
        return ExportDecision::RemoteDiscovery(MirrorExtras::default());
    }
    if LabelSelector::matches_for_export(link.selector.as_ref(), &service.labels) {
        if link.has_gateway {
            return ExportDecision::Gateway(MirrorExtras::default());
        }
        return ExportDecision::NotExported(format!(
            "service {}/{} matches the gateway selector of link {}, but the link has no gateway",
            service.namespace, service.name, link.name
        ));
    }
    ExportDecision::NotExported(format!(
        "service {}/{} matches no export selector of link {}",
        service.namespace, service.name, link.name
    ))
}

#[cfg(test)]
mod tests;
