//! Pieces every rendered workload shares: labels, metadata, the locked-down
//! security context, probes on the admin port and resource requests.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, ContainerPort, HTTPGetAction, PodSecurityContext, Probe, ResourceRequirements,
    SeccompProfile, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The label every strait object carries, so `kubectl get -l` finds them.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// Its value.
pub const PART_OF_VALUE: &str = "strait";
/// Linkerd's label naming a control-plane component.
pub const CONTROL_PLANE_COMPONENT: &str = "linkerd.io/control-plane-component";
/// Linkerd's label naming the control plane's namespace.
pub use strait_api::labels::CONTROL_PLANE_NS;
/// Linkerd's label naming an extension's objects.
pub const EXTENSION: &str = "linkerd.io/extension";

/// Labels from pairs, with [`PART_OF`] added.
pub fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.insert(PART_OF.into(), PART_OF_VALUE.into());
    labels
}

/// Metadata of an object named `name` in `namespace` (`None` for
/// cluster-scoped objects).
pub fn metadata(
    name: &str,
    namespace: Option<&str>,
    labels: &BTreeMap<String, String>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    }
}

/// A pod that runs as `uid`, never as root, with the runtime's default
/// seccomp profile.
pub fn pod_security(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// A container with no capabilities, no privilege escalation and a
/// read-only root filesystem: the components write nothing to disk.
pub fn container_security(uid: i64) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}

/// An HTTP GET probe of `path` on the named container port.
pub fn probe(path: &str, port_name: &str, initial_delay: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String(port_name.to_string()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(10),
        failure_threshold: Some(3),
        timeout_seconds: Some(1),
        ..Probe::default()
    }
}

/// A named TCP container port.
pub fn container_port(name: &str, port: u16) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_string()),
        container_port: i32::from(port),
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

/// Requests `cpu` and `memory`, limited to `memory_limit` of memory (a
/// leak is restarted before it hurts the node; CPU is not limited, so a
/// burst of proxies starting is served at full speed).
pub fn resources(cpu: &str, memory: &str, memory_limit: &str) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.into())),
            ("memory".to_string(), Quantity(memory.into())),
        ])),
        limits: Some(BTreeMap::from([(
            "memory".to_string(),
            Quantity(memory_limit.into()),
        )])),
        ..ResourceRequirements::default()
    }
}

/// The name of the admin port on every controller container, Linkerd's.
pub const ADMIN_PORT_NAME: &str = "admin-http";
/// The name of the gRPC port on every controller container and Service.
pub const GRPC_PORT_NAME: &str = "grpc";
