//! Resources for tests, shaped as the API server returns them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EndpointAddress, EndpointPort, EndpointSubset, Endpoints,
    ObjectReference, Pod, PodIP, PodSpec, PodStatus, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::api::discovery::v1::{
    Endpoint as SliceEndpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use strait_api::{IntOrString, labels};

pub(crate) fn meta(namespace: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        namespace: Some(namespace.into()),
        name: Some(name.into()),
        ..ObjectMeta::default()
    }
}

/// A Service with a ClusterIP and `(name, port, targetPort)` ports.
pub(crate) fn service(
    namespace: &str,
    name: &str,
    cluster_ip: &str,
    ports: &[(&str, i32, IntOrString)],
) -> Service {
    Service {
        metadata: meta(namespace, name),
        spec: Some(ServiceSpec {
            cluster_ip: Some(cluster_ip.into()),
            ports: Some(
                ports
                    .iter()
                    .map(|(port_name, port, target)| ServicePort {
                        name: Some(port_name.to_string()).filter(|n| !n.is_empty()),
                        port: *port,
                        target_port: Some(target.clone()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// A remote-discovery mirror `<remote_service>-<cluster>` as the service
/// mirror writes it.
pub(crate) fn remote_discovery_mirror(
    namespace: &str,
    remote_service: &str,
    cluster: &str,
    port: i32,
) -> Service {
    let mut svc = service(
        namespace,
        &format!("{remote_service}-{cluster}"),
        "10.96.9.9",
        &[("http", port, IntOrString::Int(port))],
    );
    svc.metadata.labels = Some(BTreeMap::from([
        (labels::MIRRORED_SERVICE.to_string(), "true".to_string()),
        (labels::MIRROR_CLUSTER_NAME.to_string(), cluster.to_string()),
        (labels::REMOTE_DISCOVERY.to_string(), cluster.to_string()),
        (
            labels::REMOTE_SERVICE.to_string(),
            remote_service.to_string(),
        ),
    ]));
    svc
}

/// A running pod of a Deployment `<name up to the last two dashes>`, with a
/// named container port `http` = `http_port`, meshed or not.
pub(crate) fn pod(namespace: &str, name: &str, ip: &str, meshed: bool, http_port: i32) -> Pod {
    let mut containers = vec![Container {
        name: "app".into(),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: http_port,
            ..ContainerPort::default()
        }]),
        ..Container::default()
    }];
    if meshed {
        containers.push(Container {
            name: "linkerd-proxy".into(),
            ..Container::default()
        });
    }
    let mut parts: Vec<&str> = name.rsplitn(3, '-').collect();
    parts.reverse();
    let (replica_set, hash) = match parts.as_slice() {
        [deployment, hash, _] => (format!("{deployment}-{hash}"), hash.to_string()),
        _ => (name.to_string(), String::new()),
    };
    let mut metadata = meta(namespace, name);
    metadata.labels = Some(BTreeMap::from([("pod-template-hash".to_string(), hash)]));
    metadata.owner_references = Some(vec![OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: replica_set,
        controller: Some(true),
        ..OwnerReference::default()
    }]);
    Pod {
        metadata,
        spec: Some(PodSpec {
            service_account_name: Some(format!("{namespace}-sa")),
            containers,
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            pod_ip: Some(ip.into()),
            pod_ips: Some(vec![PodIP { ip: ip.into() }]),
            ..PodStatus::default()
        }),
    }
}

fn pod_ref(namespace: &str, pod: &str) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: Some(namespace.into()),
        name: Some(pod.into()),
        ..ObjectReference::default()
    }
}

/// Endpoints with `(ip, pod)` ready and not-ready addresses and `(name,
/// port)` ports in one subset.
pub(crate) fn endpoints(
    namespace: &str,
    name: &str,
    ready: &[(&str, &str)],
    not_ready: &[(&str, &str)],
    ports: &[(&str, i32)],
) -> Endpoints {
    let addresses = |list: &[(&str, &str)]| {
        list.iter()
            .map(|(ip, pod)| EndpointAddress {
                ip: ip.to_string(),
                target_ref: Some(pod_ref(namespace, pod)),
                ..EndpointAddress::default()
            })
            .collect()
    };
    Endpoints {
        metadata: meta(namespace, name),
        subsets: Some(vec![EndpointSubset {
            addresses: Some(addresses(ready)),
            not_ready_addresses: Some(addresses(not_ready)),
            ports: Some(
                ports
                    .iter()
                    .map(|(port_name, port)| EndpointPort {
                        name: Some(port_name.to_string()).filter(|n| !n.is_empty()),
                        port: *port,
                        ..EndpointPort::default()
                    })
                    .collect(),
            ),
        }]),
    }
}

/// An EndpointSlice of `service` with `(ip, pod, ready)` endpoints.
pub(crate) fn slice(
    namespace: &str,
    name: &str,
    service: &str,
    members: &[(&str, &str, bool)],
    ports: &[(&str, i32)],
) -> EndpointSlice {
    let mut metadata = meta(namespace, name);
    metadata.labels = Some(BTreeMap::from([(
        "kubernetes.io/service-name".to_string(),
        service.to_string(),
    )]));
    EndpointSlice {
        metadata,
        address_type: "IPv4".into(),
        endpoints: Some(
            members
                .iter()
                .map(|(ip, pod, ready)| SliceEndpoint {
                    addresses: vec![ip.to_string()],
                    conditions: Some(EndpointConditions {
                        ready: Some(*ready),
                        ..EndpointConditions::default()
                    }),
                    target_ref: Some(pod_ref(namespace, pod)),
                    ..SliceEndpoint::default()
                })
                .collect(),
        ),
        ports: Some(
            ports
                .iter()
                .map(|(port_name, port)| SlicePort {
                    name: Some(port_name.to_string()).filter(|n| !n.is_empty()),
                    port: Some(*port),
                    ..SlicePort::default()
                })
                .collect(),
        ),
    }
}
