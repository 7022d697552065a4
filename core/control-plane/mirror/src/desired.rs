//! What a mirror should look like: the mirror Service and, in gateway mode,
//! its Endpoints, as Linkerd's service mirror writes them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Event, EventSource, ObjectReference,
    Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use strait_api::labels;
use strait_decisions::export::{ExportDecision, RemoteService, ServicePort as RemotePort};

use crate::config::{Gateway, LinkConfig};

/// The field manager the mirror applies as.
pub const FIELD_MANAGER: &str = "strait";

/// The plugin's view of a remote Service.
pub(crate) fn remote_service(svc: &Service) -> RemoteService {
    let spec = svc.spec.as_ref();
    RemoteService {
        namespace: svc.metadata.namespace.clone().unwrap_or_default(),
        name: svc.metadata.name.clone().unwrap_or_default(),
        labels: svc.metadata.labels.clone().unwrap_or_default(),
        annotations: svc.metadata.annotations.clone().unwrap_or_default(),
        ports: spec
            .and_then(|s| s.ports.as_ref())
            .into_iter()
            .flatten()
            .map(|p| RemotePort {
                name: p.name.clone().unwrap_or_default(),
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                port: u16::try_from(p.port).unwrap_or(0),
                target_port: p
                    .target_port
                    .as_ref()
                    .map(|t| match t {
                        strait_api::IntOrString::Int(i) => i.to_string(),
                        strait_api::IntOrString::String(s) => s.clone(),
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        headless: spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None"),
    }
}

/// The mirror of `remote` for an exporting decision; `None` for not exported.
pub(crate) fn mirror_service(
    remote: &Service,
    link: &LinkConfig,
    decision: &ExportDecision,
) -> Option<Service> {
    let (extras, remote_discovery) = match decision {
        ExportDecision::NotExported(_) => return None,
        ExportDecision::Gateway(extras) => (extras, false),
        ExportDecision::RemoteDiscovery(extras) => (extras, true),
    };
    let name = remote.metadata.name.clone().unwrap_or_default();
    let namespace = remote.metadata.namespace.clone().unwrap_or_default();
    let mut labels: BTreeMap<String, String> = remote
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !link.excludes_label(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.extend(extras.labels.clone());
    labels.insert(labels::MIRRORED_SERVICE.into(), "true".into());
    labels.insert(
        labels::MIRROR_CLUSTER_NAME.into(),
        link.target_cluster_name.clone(),
    );
    if remote_discovery {
        labels.insert(
            labels::REMOTE_DISCOVERY.into(),
            link.target_cluster_name.clone(),
        );
        labels.insert(labels::REMOTE_SERVICE.into(), name.clone());
    }
    let mut annotations: BTreeMap<String, String> = remote
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| !link.excludes_annotation(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    annotations.extend(extras.annotations.clone());
    annotations.insert(
        labels::REMOTE_SVC_FQ_NAME.into(),
        link.remote_fq_name(&name, &namespace),
    );
    annotations.insert(
        labels::REMOTE_RESOURCE_VERSION.into(),
        remote.metadata.resource_version.clone().unwrap_or_default(),
    );
    let ports = remote
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .map(|p| ServicePort {
                    name: p.name.clone(),
                    protocol: p.protocol.clone(),
                    port: p.port,
                    target_port: p.target_port.clone(),
                    ..Default::default()
                })
                .collect()
        });
    Some(Service {
        metadata: ObjectMeta {
            name: Some(link.mirror_name(&name)),
            namespace: Some(namespace),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            ports,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Gateway mode: the mirror's Endpoints, every remote port mapped to the
/// gateway's port on the gateway's addresses; no subsets at all while the
/// remote Service has no ready endpoints, so clients fail fast instead of
/// crossing to a gateway with nothing behind it; and the gateway's addresses
/// listed as not ready while its probe fails.
pub(crate) fn gateway_endpoints(
    mirror: &Service,
    gateway: &Gateway,
    remote_ready: bool,
    gateway_alive: bool,
) -> Endpoints {
    let ports: Vec<EndpointPort> = mirror
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .map(|p| EndpointPort {
            name: p.name.clone(),
            port: i32::from(gateway.port),
            protocol: p.protocol.clone(),
            ..Default::default()
        })
        .collect();
    let addresses = gateway
        .addresses
        .iter()
        .map(|ip| EndpointAddress {
            ip: ip.clone(),
            ..Default::default()
        })
        .collect();
    let mut annotations = BTreeMap::new();
    annotations.insert(
        labels::REMOTE_GATEWAY_IDENTITY.to_string(),
        gateway.identity.clone(),
    );
    let labels = mirror.metadata.labels.as_ref().map(|l| {
        l.iter()
            .filter(|(k, _)| *k == labels::MIRRORED_SERVICE || *k == labels::MIRROR_CLUSTER_NAME)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    Endpoints {
        metadata: ObjectMeta {
            name: mirror.metadata.name.clone(),
            namespace: mirror.metadata.namespace.clone(),
            labels,
            annotations: Some(annotations),
            ..Default::default()
        },
        subsets: Some(if remote_ready {
            vec![if gateway_alive {
                EndpointSubset {
                    addresses: Some(addresses),
                    ports: Some(ports),
                    ..Default::default()
                }
            } else {
                EndpointSubset {
                    not_ready_addresses: Some(addresses),
                    ports: Some(ports),
                    ..Default::default()
                }
            }]
        } else {
            Vec::new()
        }),
    }
}

/// The Warning Event recorded on a remote Service whose namespace is missing
/// in the mirroring cluster, named so that repeats replace it.
pub(crate) fn missing_namespace_event(remote: &Service, link: &LinkConfig) -> Event {
    let name = remote.metadata.name.clone().unwrap_or_default();
    let namespace = remote.metadata.namespace.clone().unwrap_or_default();
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{name}.mirror-missing-namespace.{}", link.name)),
            namespace: Some(namespace.clone()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Service".into()),
            name: Some(name),
            namespace: Some(namespace.clone()),
            uid: remote.metadata.uid.clone(),
            resource_version: remote.metadata.resource_version.clone(),
            ..Default::default()
        },
        reason: Some(strait_api::link::reason::MISSING_NAMESPACE.into()),
        message: Some(format!(
            "not mirrored through link {}: namespace {namespace} does not exist in the mirroring cluster",
            link.name
        )),
        type_: Some("Warning".into()),
        source: Some(EventSource {
            component: Some("strait-service-mirror".into()),
            host: None,
        }),
        reporting_component: Some("strait.io/service-mirror".into()),
        reporting_instance: Some(link.name.clone()),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        ..Default::default()
    }
}

/// Whether `existing` already is what `desired` asks for (so nothing is written):
/// the same remote resourceVersion, every desired label and annotation, the same ports.
pub(crate) fn service_is_current(existing: &Service, desired: &Service) -> bool {
    let contains = |have: &Option<BTreeMap<String, String>>,
                    want: &Option<BTreeMap<String, String>>| {
        want.iter()
            .flatten()
            .all(|(k, v)| have.as_ref().and_then(|h| h.get(k)) == Some(v))
    };
    let ports = |s: &Service| {
        s.spec
            .as_ref()
            .and_then(|s| s.ports.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                (
                    p.name,
                    p.protocol.unwrap_or_else(|| "TCP".into()),
                    p.port,
                    p.target_port,
                )
            })
            .collect::<Vec<_>>()
    };
    contains(&existing.metadata.labels, &desired.metadata.labels)
        && contains(
            &existing.metadata.annotations,
            &desired.metadata.annotations,
        )
        && ports(existing) == ports(desired)
}

/// Whether existing Endpoints already point where `desired` does.
pub(crate) fn endpoints_are_current(existing: &Endpoints, desired: &Endpoints) -> bool {
    existing.subsets == desired.subsets
        && existing.metadata.annotations == desired.metadata.annotations
}

/// Whether a local Service is a mirror this Link's controller owns, so it
/// never deletes a Service someone else made.
pub(crate) fn is_our_mirror(svc: &Service, link: &LinkConfig) -> bool {
    let labels = svc.metadata.labels.as_ref();
    labels
        .and_then(|l| l.get(labels::MIRRORED_SERVICE))
        .map(String::as_str)
        == Some("true")
        && labels.and_then(|l| l.get(labels::MIRROR_CLUSTER_NAME))
            == Some(&link.target_cluster_name)
}

#[cfg(test)]
mod tests;
