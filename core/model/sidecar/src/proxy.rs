//! The proxy container, built in one place for every proxy the mesh runs:
//! a workload's sidecar (`strait inject`, `strait local`) and the
//! multicluster gateway (`strait multicluster install`).
//!
//! The environment is Linkerd's injector's, variable for variable and in
//! its order, so a pod injected here and one injected by Linkerd configure
//! a proxy the same way. Helper variables taken from the pod (`_pod_*`)
//! come first, because the kubelet expands `$(NAME)` only for variables
//! defined before the one that refers to them.

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapKeySelector, Container, ContainerPort, EnvVar, EnvVarSource,
    HTTPGetAction, ObjectFieldSelector, Probe, ProjectedVolumeSource, SeccompProfile,
    SecurityContext, ServiceAccountTokenProjection, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::image::{PROXY_BIN, PROXY_UID};

use strait_mesh::env::{self, reference};
use strait_mesh::names::{self, DESTINATION, IDENTITY, POLICY};
use strait_mesh::ports;

/// How long a projected ServiceAccount token lives before the kubelet
/// replaces it (Linkerd's day).
const TOKEN_LIFETIME_SECONDS: i64 = 86400;

/// Where a proxy's trust anchors come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustAnchors {
    /// The PEM itself, in the variable, as Linkerd's injector writes it: a
    /// workload's namespace holds no copy of the control plane's
    /// trust-roots ConfigMap, and a pod can refer to ConfigMaps of its own
    /// namespace only.
    Pem(String),
    /// The [`names::TRUST_ROOTS`] ConfigMap of the pod's own namespace, for
    /// a namespace the installer puts a copy in (the gateway's): the
    /// anchors then change with the ConfigMap, not with the manifest.
    ConfigMap,
}

/// Where a proxy reaches the control plane's three services, as
/// `host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPlaneAddrs {
    /// The identity service, which certifies the proxy.
    pub identity: String,
    /// The destination service, which resolves outbound traffic.
    pub destination: String,
    /// The policy service, which serves inbound policy and the authz plugin.
    pub policy: String,
}

impl ControlPlaneAddrs {
    /// The control plane's Services in a cluster whose DNS domain is
    /// `cluster_domain`.
    pub fn services(cluster_domain: &str) -> Self {
        ControlPlaneAddrs {
            identity: IDENTITY.address(cluster_domain),
            destination: DESTINATION.address(cluster_domain),
            policy: POLICY.address(cluster_domain),
        }
    }

    /// One address serving all three, as the embedded control plane of
    /// `strait local` does.
    pub fn at(addr: impl std::fmt::Display) -> Self {
        let addr = addr.to_string();
        ControlPlaneAddrs {
            identity: addr.clone(),
            destination: addr.clone(),
            policy: addr,
        }
    }
}

/// The settings a proxy container varies by; everything else about it is
/// the same for every proxy of the mesh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyContainer {
    /// The image the container runs (strait's image, which holds the proxy
    /// at [`PROXY_BIN`]).
    pub image: String,
    /// The mesh's identity trust domain, the last part of the proxy's
    /// identity name.
    pub trust_domain: String,
    /// Where the proxy's trust anchors come from.
    pub trust_anchors: TrustAnchors,
    /// Where the proxy reaches the control plane.
    pub control_plane: ControlPlaneAddrs,
    /// Whether the proxy is a multicluster gateway rather than a
    /// workload's sidecar.
    pub gateway: bool,
}

impl ProxyContainer {
    /// The environment the container sets: Linkerd's injector's variables
    /// in its order, then [`env::GATEWAY`] for a gateway, or for a
    /// workload's sidecar [`env::INBOUND_TRUSTED_GATEWAYS`]: the
    /// multicluster gateway's identity, so a client in a linked cluster
    /// is authorized as itself through the gateway. A gateway trusts no
    /// other gateway's word.
    pub fn env(&self) -> Vec<EnvVar> {
        let pod_ns = reference(env::POD_NAMESPACE);
        let pod_name = reference(env::POD_NAME);
        // Each control-plane server's identity, as Linkerd's injector
        // spells it, so the proxy verifies whom it talks to.
        let server = |component: &names::Component| {
            names::identity_name(
                component.workload,
                &reference(env::CONTROL_PLANE_NAMESPACE),
                &reference(env::CONTROL_PLANE_NAMESPACE),
                &reference(env::TRUST_DOMAIN),
            )
        };
        let mut vars = vec![
            field(env::POD_NAME, "metadata.name"),
            field(env::POD_NAMESPACE, "metadata.namespace"),
            field(env::POD_NODE_NAME, "spec.nodeName"),
            field(env::POD_SERVICE_ACCOUNT, "spec.serviceAccountName"),
            value(env::CONTROL_PLANE_NAMESPACE, names::CONTROL_PLANE_NAMESPACE),
            value(env::TRUST_DOMAIN, &self.trust_domain),
            value(env::INBOUND_LISTEN_ADDR, ports::INBOUND_ADDR.to_string()),
            value(env::OUTBOUND_LISTEN_ADDR, ports::OUTBOUND_ADDR.to_string()),
            value(env::ADMIN_LISTEN_ADDR, ports::ADMIN_ADDR.to_string()),
            value(env::DESTINATION_SVC_ADDR, &self.control_plane.destination),
            value(env::DESTINATION_SVC_NAME, server(&names::DESTINATION)),
            value(env::POLICY_SVC_ADDR, &self.control_plane.policy),
            value(env::POLICY_SVC_NAME, server(&names::POLICY)),
            value(
                env::POLICY_WORKLOAD,
                format!(r#"{{"ns":"{pod_ns}","pod":"{pod_name}"}}"#),
            ),
            value(
                env::DESTINATION_CONTEXT,
                format!(
                    r#"{{"ns":"{pod_ns}","nodeName":"{}","pod":"{pod_name}"}}"#,
                    reference(env::POD_NODE_NAME)
                ),
            ),
            self.trust_anchors_var(),
            value(env::IDENTITY_TOKEN_FILE, names::IDENTITY_TOKEN_FILE),
            value(env::IDENTITY_SVC_ADDR, &self.control_plane.identity),
            value(env::IDENTITY_SVC_NAME, server(&names::IDENTITY)),
            value(
                env::IDENTITY_LOCAL_NAME,
                names::identity_name(
                    &reference(env::POD_SERVICE_ACCOUNT),
                    &pod_ns,
                    &reference(env::CONTROL_PLANE_NAMESPACE),
                    &reference(env::TRUST_DOMAIN),
                ),
            ),
        ];
        if self.gateway {
            vars.push(value(env::GATEWAY, "true"));
        } else {
            vars.push(value(
                env::INBOUND_TRUSTED_GATEWAYS,
                names::gateway_identity(
                    &reference(env::CONTROL_PLANE_NAMESPACE),
                    &reference(env::TRUST_DOMAIN),
                ),
            ));
        }
        vars
    }

    fn trust_anchors_var(&self) -> EnvVar {
        match &self.trust_anchors {
            TrustAnchors::Pem(pem) => value(env::IDENTITY_TRUST_ANCHORS, pem),
            TrustAnchors::ConfigMap => EnvVar {
                name: env::IDENTITY_TRUST_ANCHORS.into(),
                value_from: Some(EnvVarSource {
                    config_map_key_ref: Some(ConfigMapKeySelector {
                        name: names::TRUST_ROOTS.into(),
                        key: names::TRUST_ROOTS_KEY.into(),
                        optional: Some(false),
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            },
        }
    }

    /// The [`names::PROXY_CONTAINER`] container: the proxy program with
    /// [`env`](Self::env), its inbound and admin ports, probes on the admin
    /// port, a locked-down security context and the identity token mounted
    /// from [`identity_token_volume`], which the pod must have.
    pub fn build(&self) -> Container {
        Container {
            name: names::PROXY_CONTAINER.into(),
            image: Some(self.image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            command: Some(vec![PROXY_BIN.into()]),
            env: Some(self.env()),
            ports: Some(vec![
                port(ports::INBOUND_PORT_NAME, ports::INBOUND_PORT),
                port(ports::ADMIN_PORT_NAME, ports::ADMIN_PORT),
            ]),
            readiness_probe: Some(admin_probe(names::READY_PATH, 2)),
            liveness_probe: Some(admin_probe(names::LIVE_PATH, 10)),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                run_as_non_root: Some(true),
                run_as_user: Some(PROXY_UID),
                // The proxy needs no capability (its ports are above 1024),
                // as Pod Security's "restricted" profile requires.
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".into()]),
                    ..Capabilities::default()
                }),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    ..SeccompProfile::default()
                }),
                ..SecurityContext::default()
            }),
            termination_message_policy: Some("FallbackToLogsOnError".into()),
            volume_mounts: Some(vec![VolumeMount {
                name: names::IDENTITY_TOKEN_VOLUME.into(),
                mount_path: names::IDENTITY_TOKEN_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            }]),
            ..Container::default()
        }
    }
}

/// The pod volume of the ServiceAccount token a proxy proves its identity
/// with: projected for identity's audience and rotated by the kubelet, so
/// the token is useless to anything but identity and expires on its own.
pub fn identity_token_volume() -> Volume {
    Volume {
        name: names::IDENTITY_TOKEN_VOLUME.into(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some(names::IDENTITY_TOKEN_AUDIENCE.into()),
                    expiration_seconds: Some(TOKEN_LIFETIME_SECONDS),
                    path: names::IDENTITY_TOKEN_FILE_NAME.into(),
                    ..ServiceAccountTokenProjection::default()
                }),
                ..VolumeProjection::default()
            }]),
            ..ProjectedVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The version injected pods name in Linkerd's `linkerd.io/proxy-version`
/// annotation: this build's, as every tool of the workspace shares it.
pub fn proxy_version() -> String {
    format!("strait-{}", env!("CARGO_PKG_VERSION"))
}

fn value(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

fn field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn port(name: &str, number: u16) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: i32::from(number),
        ..ContainerPort::default()
    }
}

/// A probe on the admin port by number, as Linkerd's injector writes it.
fn admin_probe(path: &str, initial_delay: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(i32::from(ports::ADMIN_PORT)),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        ..Probe::default()
    }
}

#[cfg(test)]
mod tests;
