//! `strait multicluster install`: the multicluster extension in
//! `linkerd-multicluster`, as Linkerd's.
//!
//! A target cluster gets the gateway (unless `--gateway=false`) and the
//! remote-access account its linked source clusters act as; a source
//! cluster gets one service mirror per Link it names with
//! `--set controllers[N].link.ref.name=NAME`. Every cluster gets all of
//! it that it is asked for, so one command serves both roles.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, Namespace, PodSpec, PodTemplateSpec, Secret, Service, ServiceAccount,
    ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::image::{PROXY_UID, STRAIT_BIN, default_image};
use strait_mesh::env;
use strait_mesh::names::{
    self, CONTROL_PLANE_NAMESPACE, CONTROLLER_UID, DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN,
    GATEWAY, GATEWAY_PORT, GATEWAY_PORT_NAME, GATEWAY_PROBE_CONTAINER_PORT, GATEWAY_PROBE_PATH,
    GATEWAY_PROBE_PORT, GATEWAY_PROBE_PORT_NAME, LINK_NAMESPACE, LIVE_PATH, MULTICLUSTER_NAMESPACE,
    READY_PATH, REMOTE_ACCESS_ACCOUNT, REMOTE_ACCESS_TOKEN, SERVICE_MIRROR_ADMIN_ADDR,
    SERVICE_MIRROR_ADMIN_PORT, TRUST_ROOTS, TRUST_ROOTS_KEY,
};
use strait_sidecar::{ControlPlaneAddrs, ProxyContainer, TrustAnchors, identity_token_volume};

use crate::control_plane::dns_name;
use crate::meta::{self, ADMIN_PORT_NAME, EXTENSION, labels, metadata};
use crate::object::{Object, RenderError};
use crate::rbac;

mod gateway_policy;
mod set;

pub use gateway_policy::{ANY_MESHED, SOURCE_CLUSTER};
pub use set::{InvalidLinkName, SetError};

/// The settings of a multicluster install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Multicluster {
    /// Whether to render the gateway (`--gateway`, `gateway.enabled`).
    pub gateway: bool,
    /// The Links this cluster mirrors, one service mirror each
    /// (`controllers[N].link.ref.name`), in index order.
    pub links: Vec<String>,
    /// The image every component runs (`--image`).
    pub image: String,
    /// The cluster's DNS domain, for the gateway's control-plane addresses.
    pub cluster_domain: String,
    /// The mesh's trust domain, for the gateway's identity.
    pub identity_trust_domain: String,
    /// The trust anchors the gateway's proxy trusts, rendered as the
    /// `linkerd-identity-trust-roots` ConfigMap of `linkerd-multicluster`;
    /// `None` leaves that ConfigMap to the user.
    pub trust_anchors_pem: Option<String>,
}

impl Default for Multicluster {
    fn default() -> Self {
        Multicluster {
            gateway: true,
            links: Vec::new(),
            image: default_image(),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.into(),
            identity_trust_domain: DEFAULT_TRUST_DOMAIN.into(),
            trust_anchors_pem: None,
        }
    }
}

impl Multicluster {
    /// Applies `--set` values in order, after the flags: later values win,
    /// as Helm's. Unknown keys are errors naming the key.
    pub fn apply_sets<'a>(
        &mut self,
        sets: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), SetError> {
        let mut controllers: BTreeMap<usize, String> =
            self.links.iter().cloned().enumerate().collect();
        for text in sets {
            for assignment in set::split(text) {
                match set::parse(assignment)? {
                    set::Setting::Gateway(enabled) => self.gateway = enabled,
                    set::Setting::Link { index, name } => {
                        controllers.insert(index, name);
                    }
                }
            }
        }
        let links: Vec<String> = controllers.into_values().collect();
        for (i, link) in links.iter().enumerate() {
            if links[..i].contains(link) {
                return Err(SetError::DuplicateLink(link.clone()));
            }
        }
        self.links = links;
        Ok(())
    }

    /// Everything asked for: the Link CRD, the namespace, the
    /// remote-access account, the gateway and the service mirrors.
    pub fn render(&self) -> Result<Vec<Object>, RenderError> {
        let mut objects: Vec<Object> = crate::control_plane::crds()?
            .into_iter()
            .filter(|crd| crd.name() == "links.multicluster.linkerd.io")
            .collect();
        objects.extend(self.objects()?);
        Ok(objects)
    }

    /// Everything asked for but the Link CRD (which the control plane's
    /// CRDs include): the namespace first.
    pub fn objects(&self) -> Result<Vec<Object>, RenderError> {
        dns_name("--cluster-domain", &self.cluster_domain)?;
        dns_name("--identity-trust-domain", &self.identity_trust_domain)?;
        if self.image.trim().is_empty() {
            return Err(RenderError::Invalid {
                what: "--image".into(),
                reason: "must not be empty",
            });
        }
        let namespace = Namespace {
            metadata: metadata(MULTICLUSTER_NAMESPACE, None, &extension_labels()),
            ..Namespace::default()
        };
        let mut objects: Vec<Object> = vec![namespace.into()];
        objects.extend(remote_access());
        if self.gateway {
            objects.extend(self.gateway_objects());
        }
        for link in &self.links {
            objects.extend(self.service_mirror(link)?);
        }
        Ok(objects)
    }

    /// The gateway: its ServiceAccount, the trust-roots ConfigMap when the
    /// anchors are known, its Deployment, its LoadBalancer Service, and the
    /// Server and AuthorizationPolicy its port is authorized by.
    pub fn gateway_objects(&self) -> Vec<Object> {
        let mut labels = extension_labels();
        labels.insert("app".into(), GATEWAY.into());
        labels.insert("component".into(), "gateway".into());
        let selector = BTreeMap::from([("app".to_string(), GATEWAY.to_string())]);
        let account = ServiceAccount {
            metadata: metadata(GATEWAY, Some(MULTICLUSTER_NAMESPACE), &labels),
            // The proxy talks to the control plane only, never to the API.
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        };
        let mut objects: Vec<Object> = vec![account.into()];
        if let Some(pem) = &self.trust_anchors_pem {
            objects.push(
                k8s_openapi::api::core::v1::ConfigMap {
                    metadata: metadata(TRUST_ROOTS, Some(MULTICLUSTER_NAMESPACE), &labels),
                    data: Some(BTreeMap::from([(TRUST_ROOTS_KEY.to_string(), pem.clone())])),
                    ..Default::default()
                }
                .into(),
            );
        }
        let identity = format!(
            "{GATEWAY}.{MULTICLUSTER_NAMESPACE}.serviceaccount.identity.{CONTROL_PLANE_NAMESPACE}.{}",
            self.identity_trust_domain
        );
        let mut service_labels = labels.clone();
        service_labels.insert(
            "mirror.linkerd.io/multicluster-gateway".into(),
            "true".into(),
        );
        let mut service_meta = metadata(GATEWAY, Some(MULTICLUSTER_NAMESPACE), &service_labels);
        service_meta.annotations = Some(BTreeMap::from([
            ("mirror.linkerd.io/gateway-identity".to_string(), identity),
            (
                "mirror.linkerd.io/probe-path".to_string(),
                GATEWAY_PROBE_PATH.to_string(),
            ),
            (
                "mirror.linkerd.io/probe-period".to_string(),
                "3s".to_string(),
            ),
        ]));
        let port = |name: &str, number: u16| ServicePort {
            name: Some(name.into()),
            port: i32::from(number),
            target_port: Some(IntOrString::Int(i32::from(number))),
            protocol: Some("TCP".into()),
            ..ServicePort::default()
        };
        let service = Service {
            metadata: service_meta,
            spec: Some(ServiceSpec {
                type_: Some("LoadBalancer".into()),
                selector: Some(selector.clone()),
                ports: Some(vec![
                    port(GATEWAY_PORT_NAME, GATEWAY_PORT),
                    ServicePort {
                        target_port: Some(IntOrString::Int(i32::from(
                            GATEWAY_PROBE_CONTAINER_PORT,
                        ))),
                        ..port(GATEWAY_PROBE_PORT_NAME, GATEWAY_PROBE_PORT)
                    },
                ]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        let mut pod_labels = labels.clone();
        pod_labels.extend(selector.clone());
        let deployment = Deployment {
            metadata: metadata(GATEWAY, Some(MULTICLUSTER_NAMESPACE), &labels),
            spec: DeploymentSpec {
                replicas: Some(1),
                selector: LabelSelector {
                    match_labels: Some(selector),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(pod_metadata(pod_labels)),
                    spec: Some(PodSpec {
                        service_account_name: Some(GATEWAY.into()),
                        automount_service_account_token: Some(false),
                        security_context: Some(meta::pod_security(PROXY_UID)),
                        containers: vec![self.gateway_container()],
                        volumes: Some(vec![identity_token_volume()]),
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            },
            ..Deployment::default()
        };
        objects.push(deployment.into());
        objects.push(service.into());
        objects.extend(gateway_policy::objects(&labels));
        objects
    }

    /// The mesh's proxy container in gateway mode, with the anchors of the
    /// namespace's trust-roots ConfigMap. Like every container rendered
    /// here it has named ports its probes name (the Service's names),
    /// resource requests and the locked-down security context; the rest is
    /// the proxy every meshed pod runs.
    fn gateway_container(&self) -> Container {
        let proxy = ProxyContainer {
            image: self.image.clone(),
            trust_domain: self.identity_trust_domain.clone(),
            trust_anchors: TrustAnchors::ConfigMap,
            control_plane: ControlPlaneAddrs::services(&self.cluster_domain),
            gateway: true,
        };
        let mut container = Container {
            ports: Some(vec![
                meta::container_port(GATEWAY_PORT_NAME, GATEWAY_PORT),
                meta::container_port(GATEWAY_PROBE_PORT_NAME, GATEWAY_PROBE_CONTAINER_PORT),
            ]),
            readiness_probe: Some(meta::probe(GATEWAY_PROBE_PATH, GATEWAY_PROBE_PORT_NAME, 2)),
            liveness_probe: Some(meta::probe(LIVE_PATH, GATEWAY_PROBE_PORT_NAME, 10)),
            resources: Some(meta::resources("100m", "32Mi", "256Mi")),
            security_context: Some(meta::container_security(PROXY_UID)),
            ..proxy.build()
        };
        // The load balancer's probe port reaches a listener with nothing
        // but /ready and /live; the admin port stays inside the cluster.
        container.env.get_or_insert_with(Vec::new).push(EnvVar {
            name: env::PROBE_LISTEN_ADDR.to_string(),
            value: Some(format!("0.0.0.0:{GATEWAY_PROBE_CONTAINER_PORT}")),
            ..EnvVar::default()
        });
        // The gateway forwards only to this cluster's Services by name, as
        // Linkerd configures its gateways.
        container.env.get_or_insert_with(Vec::new).push(EnvVar {
            name: env::INBOUND_GATEWAY_SUFFIXES.to_string(),
            value: Some(format!("svc.{}.", self.cluster_domain)),
            ..EnvVar::default()
        });
        container
    }

    /// The service mirror of Link `link`: ServiceAccount, its RBAC and its
    /// Deployment running `strait controller service-mirror`.
    pub fn service_mirror(&self, link: &str) -> Result<Vec<Object>, RenderError> {
        set::link_name(link).map_err(|source| RenderError::LinkName {
            link: link.to_string(),
            source,
        })?;
        let name = names::service_mirror(link);
        let mut labels = extension_labels();
        labels.insert("component".into(), "linkerd-service-mirror".into());
        labels.insert(
            strait_api::labels::MIRROR_CLUSTER_NAME.into(),
            link.to_string(),
        );
        let selector = BTreeMap::from([
            (
                "component".to_string(),
                "linkerd-service-mirror".to_string(),
            ),
            (
                strait_api::labels::MIRROR_CLUSTER_NAME.to_string(),
                link.to_string(),
            ),
        ]);
        let account = ServiceAccount {
            metadata: metadata(&name, Some(MULTICLUSTER_NAMESPACE), &labels),
            ..ServiceAccount::default()
        };
        let container = Container {
            name: "service-mirror".into(),
            image: Some(self.image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            command: Some(vec![
                STRAIT_BIN.to_string(),
                "controller".into(),
                "service-mirror".into(),
            ]),
            args: Some(vec![
                "--link".into(),
                link.to_string(),
                "-n".into(),
                LINK_NAMESPACE.into(),
                format!("--admin-addr={SERVICE_MIRROR_ADMIN_ADDR}"),
            ]),
            ports: Some(vec![meta::container_port(
                ADMIN_PORT_NAME,
                SERVICE_MIRROR_ADMIN_PORT,
            )]),
            readiness_probe: Some(meta::probe(READY_PATH, ADMIN_PORT_NAME, 2)),
            liveness_probe: Some(meta::probe(LIVE_PATH, ADMIN_PORT_NAME, 10)),
            // The plugin host reserves memory for the export plugin.
            resources: Some(meta::resources("100m", "64Mi", "512Mi")),
            security_context: Some(meta::container_security(CONTROLLER_UID)),
            ..Container::default()
        };
        let deployment = Deployment {
            metadata: metadata(&name, Some(MULTICLUSTER_NAMESPACE), &labels),
            spec: DeploymentSpec {
                replicas: Some(1),
                selector: LabelSelector {
                    match_labels: Some(selector),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(pod_metadata(labels.clone())),
                    spec: Some(PodSpec {
                        service_account_name: Some(name.clone()),
                        security_context: Some(meta::pod_security(CONTROLLER_UID)),
                        containers: vec![container],
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            },
            ..Deployment::default()
        };
        let account_ref = (MULTICLUSTER_NAMESPACE, name.as_str());
        let mut objects: Vec<Object> = vec![account.into()];
        objects.extend(rbac::cluster_role(
            &names::service_mirror_cluster_role(link),
            rbac::service_mirror_cluster_rules(),
            account_ref,
            &labels,
        ));
        objects.extend(rbac::namespaced_role(
            &names::service_mirror_role(link),
            LINK_NAMESPACE,
            rbac::service_mirror_link_rules(link),
            account_ref,
            &labels,
        ));
        objects.extend(rbac::namespaced_role(
            &names::service_mirror_role(link),
            CONTROL_PLANE_NAMESPACE,
            rbac::plugins_config_map_rules(),
            account_ref,
            &labels,
        ));
        objects.push(deployment.into());
        Ok(objects)
    }
}

/// The account linked source clusters act as in this cluster, its token
/// Secret (filled in by Kubernetes; `link-gen` reads it) and what it may
/// read: cluster-wide what mirrors and remote discovery follow, and in
/// the control plane's namespace the two ConfigMaps `multicluster check`
/// compares.
pub fn remote_access() -> Vec<Object> {
    let labels = extension_labels();
    let account = ServiceAccount {
        metadata: metadata(REMOTE_ACCESS_ACCOUNT, Some(MULTICLUSTER_NAMESPACE), &labels),
        ..ServiceAccount::default()
    };
    let mut token_meta = metadata(REMOTE_ACCESS_TOKEN, Some(MULTICLUSTER_NAMESPACE), &labels);
    token_meta.annotations = Some(BTreeMap::from([(
        "kubernetes.io/service-account.name".to_string(),
        REMOTE_ACCESS_ACCOUNT.to_string(),
    )]));
    let token = Secret {
        metadata: token_meta,
        type_: Some("kubernetes.io/service-account-token".into()),
        ..Secret::default()
    };
    let mut objects: Vec<Object> = vec![account.into(), token.into()];
    objects.extend(rbac::cluster_role(
        REMOTE_ACCESS_ACCOUNT,
        rbac::remote_access_cluster_rules(),
        (MULTICLUSTER_NAMESPACE, REMOTE_ACCESS_ACCOUNT),
        &labels,
    ));
    objects.extend(rbac::namespaced_role(
        REMOTE_ACCESS_ACCOUNT,
        CONTROL_PLANE_NAMESPACE,
        rbac::remote_access_namespace_rules(),
        (MULTICLUSTER_NAMESPACE, REMOTE_ACCESS_ACCOUNT),
        &labels,
    ));
    objects
}

fn extension_labels() -> BTreeMap<String, String> {
    labels([(EXTENSION, "multicluster")])
}

/// Pod metadata: the labels, and no injection (the gateway is a proxy
/// already; the service mirror talks only to API servers).
fn pod_metadata(labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        labels: Some(labels),
        annotations: Some(BTreeMap::from([(
            strait_api::labels::INJECT.to_string(),
            "disabled".to_string(),
        )])),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
mod tests;
