//! `strait install`: the control plane in the `linkerd` namespace.
//!
//! Identity, destination and policy each run in their own Deployment as
//! `strait controller <component>`, under their own ServiceAccount with
//! the RBAC of [`crate::rbac`], behind a Service named as Linkerd's so
//! proxies find them.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, KeyToPath, Namespace, PodSpec, PodTemplateSpec,
    Secret, SecretVolumeSource, Service, ServiceAccount, ServicePort, ServiceSpec, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use strait_api::image::{STRAIT_BIN, default_image};
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, CONTROLLER_UID, Component, DEFAULT_CLUSTER_DOMAIN,
    DEFAULT_TRUST_DOMAIN, DESTINATION, IDENTITY, IDENTITY_TOKEN_DIR, IDENTITY_TOKEN_FILE,
    IDENTITY_TOKEN_VOLUME, ISSUER_CA_KEY, ISSUER_CERT_KEY, ISSUER_CERTIFICATE_FILE,
    ISSUER_CERTIFICATE_FILE_NAME, ISSUER_DIR, ISSUER_KEY_FILE, ISSUER_KEY_FILE_NAME,
    ISSUER_KEY_KEY, ISSUER_SECRET, LINKERD_CONFIG, LINKERD_CONFIG_VALUES_KEY, LIVE_PATH,
    PLUGINS_CONFIG_MAP, POLICY, READY_PATH, TRUST_ANCHORS_FILE, TRUST_ROOTS, TRUST_ROOTS_DIR,
    TRUST_ROOTS_KEY,
};

use crate::identity::IdentityMaterial;
use crate::meta::{
    self, ADMIN_PORT_NAME, CONTROL_PLANE_COMPONENT, CONTROL_PLANE_NS, GRPC_PORT_NAME, labels,
    metadata,
};
use crate::object::{Object, RenderError};
use crate::rbac;

/// Which part of the install to render, as Linkerd's `install --crds`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CrdSelection {
    /// The CustomResourceDefinitions, then the control plane.
    #[default]
    Both,
    /// Only the CustomResourceDefinitions (`--crds`).
    Only,
    /// Only the control plane (`--skip-crds`), for clusters that have the
    /// definitions already.
    Skip,
}

/// The settings of a control-plane install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPlane {
    /// The cluster's DNS domain (`--cluster-domain`).
    pub cluster_domain: String,
    /// The trust domain of the mesh's identities (`--identity-trust-domain`).
    pub identity_trust_domain: String,
    /// The image every component runs (`--image`).
    pub image: String,
}

impl Default for ControlPlane {
    fn default() -> Self {
        ControlPlane {
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.into(),
            identity_trust_domain: DEFAULT_TRUST_DOMAIN.into(),
            image: default_image(),
        }
    }
}

/// The keys of `linkerd-config`'s `values` strait writes: Linkerd's names,
/// so tools that read Linkerd's ConfigMap read strait's.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkerdValues<'a> {
    cluster_domain: &'a str,
    identity_trust_domain: &'a str,
}

impl ControlPlane {
    /// Checks the settings before anything is rendered: the domains must
    /// be DNS names and the image non-empty. Errors name the flag.
    pub fn validate(&self) -> Result<(), RenderError> {
        dns_name("--cluster-domain", &self.cluster_domain)?;
        dns_name("--identity-trust-domain", &self.identity_trust_domain)?;
        if self.image.trim().is_empty() {
            return Err(RenderError::Invalid {
                what: "--image".into(),
                reason: "must not be empty",
            });
        }
        Ok(())
    }

    /// The whole install: the CRDs (as `selection` says), the namespace,
    /// the identity material, RBAC, Services and Deployments.
    pub fn render(
        &self,
        identity: &IdentityMaterial,
        selection: CrdSelection,
    ) -> Result<Vec<Object>, RenderError> {
        self.validate()?;
        let mut objects = Vec::new();
        if selection != CrdSelection::Skip {
            objects.extend(crds()?);
        }
        if selection == CrdSelection::Only {
            return Ok(objects);
        }
        let mut rest = self.objects()?;
        // The namespace first, then the material the identity pod mounts.
        let tail = rest.split_off(1.min(rest.len()));
        objects.extend(rest);
        objects.extend(identity_objects(identity));
        objects.extend(tail);
        Ok(objects)
    }

    /// The control plane without CRDs and without identity material (the
    /// trust-roots ConfigMap and the issuer Secret come from the user's
    /// files): the namespace first, as `deploy/control-plane/` ships it.
    pub fn objects(&self) -> Result<Vec<Object>, RenderError> {
        let common = labels([(CONTROL_PLANE_NS, CONTROL_PLANE_NAMESPACE)]);
        let mut namespace_labels = common.clone();
        namespace_labels.insert("linkerd.io/is-control-plane".into(), "true".into());
        namespace_labels.insert(
            "config.linkerd.io/admission-webhooks".into(),
            "disabled".into(),
        );
        let namespace = Namespace {
            metadata: metadata(CONTROL_PLANE_NAMESPACE, None, &namespace_labels),
            ..Namespace::default()
        };
        let values = serde_norway::to_string(&LinkerdValues {
            cluster_domain: &self.cluster_domain,
            identity_trust_domain: &self.identity_trust_domain,
        })
        .map_err(|source| RenderError::Yaml {
            kind: "ConfigMap",
            name: LINKERD_CONFIG.into(),
            source,
        })?;
        let config = ConfigMap {
            metadata: metadata(LINKERD_CONFIG, Some(CONTROL_PLANE_NAMESPACE), &common),
            data: Some(BTreeMap::from([(
                LINKERD_CONFIG_VALUES_KEY.to_string(),
                values,
            )])),
            ..ConfigMap::default()
        };
        let mut objects: Vec<Object> = vec![namespace.into(), config.into()];
        objects.extend(self.identity());
        objects.extend(self.destination());
        objects.extend(self.policy());
        Ok(objects)
    }

    fn names_args(&self) -> Vec<String> {
        vec![
            format!("--controller-namespace={CONTROL_PLANE_NAMESPACE}"),
            format!("--identity-trust-domain={}", self.identity_trust_domain),
        ]
    }

    /// What destination and policy need to get their certificates from
    /// identity, as a proxy does: the identity service's address, the
    /// trust anchors and a projected ServiceAccount token for it.
    fn certified_tls(&self) -> (Vec<String>, Vec<Volume>, Vec<VolumeMount>) {
        let args = vec![
            format!("--trust-anchors-file={TRUST_ANCHORS_FILE}"),
            format!("--identity-token-file={IDENTITY_TOKEN_FILE}"),
            format!("--identity-addr={}", IDENTITY.address(&self.cluster_domain)),
        ];
        let volumes = vec![
            trust_roots_volume(),
            strait_sidecar::identity_token_volume(),
        ];
        let mounts = vec![
            mount("trust-roots", TRUST_ROOTS_DIR),
            mount(IDENTITY_TOKEN_VOLUME, IDENTITY_TOKEN_DIR),
        ];
        (args, volumes, mounts)
    }

    fn identity(&self) -> Vec<Object> {
        let mut args = vec![
            format!("--trust-anchors-file={TRUST_ANCHORS_FILE}"),
            format!("--issuer-certificate-file={ISSUER_CERTIFICATE_FILE}"),
            format!("--issuer-key-file={ISSUER_KEY_FILE}"),
        ];
        args.extend(self.names_args());
        let volumes = vec![
            trust_roots_volume(),
            Volume {
                name: "identity-issuer".into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(ISSUER_SECRET.into()),
                    items: Some(vec![
                        key_to_path(ISSUER_CERT_KEY, ISSUER_CERTIFICATE_FILE_NAME),
                        key_to_path(ISSUER_KEY_KEY, ISSUER_KEY_FILE_NAME),
                    ]),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            },
        ];
        let mounts = vec![
            mount("trust-roots", TRUST_ROOTS_DIR),
            mount("identity-issuer", ISSUER_DIR),
        ];
        let rbac = rbac::cluster_role(
            &rbac::cluster_role_name(&IDENTITY),
            rbac::identity_cluster_rules(),
            (CONTROL_PLANE_NAMESPACE, IDENTITY.workload),
            &component_labels(&IDENTITY),
        );
        self.controller(&IDENTITY, args, (volumes, mounts), rbac.into(), "256Mi")
    }

    fn destination(&self) -> Vec<Object> {
        let mut args = vec![format!("--cluster-domain={}", self.cluster_domain)];
        args.extend(self.names_args());
        let (tls_args, volumes, mounts) = self.certified_tls();
        args.extend(tls_args);
        let labels = component_labels(&DESTINATION);
        let mut rbac = Vec::from(rbac::cluster_role(
            &rbac::cluster_role_name(&DESTINATION),
            rbac::destination_cluster_rules(),
            (CONTROL_PLANE_NAMESPACE, DESTINATION.workload),
            &labels,
        ));
        rbac.extend(rbac::namespaced_role(
            DESTINATION.workload,
            CONTROL_PLANE_NAMESPACE,
            rbac::destination_namespace_rules(),
            (CONTROL_PLANE_NAMESPACE, DESTINATION.workload),
            &labels,
        ));
        self.controller(&DESTINATION, args, (volumes, mounts), rbac, "256Mi")
    }

    fn policy(&self) -> Vec<Object> {
        let mut args = vec![
            format!("--plugins-config-map={PLUGINS_CONFIG_MAP}"),
            format!("--cluster-domain={}", self.cluster_domain),
        ];
        args.extend(self.names_args());
        let (tls_args, volumes, mounts) = self.certified_tls();
        args.extend(tls_args);
        let labels = component_labels(&POLICY);
        let mut rbac = Vec::from(rbac::cluster_role(
            &rbac::cluster_role_name(&POLICY),
            rbac::policy_cluster_rules(),
            (CONTROL_PLANE_NAMESPACE, POLICY.workload),
            &labels,
        ));
        rbac.extend(rbac::namespaced_role(
            POLICY.workload,
            CONTROL_PLANE_NAMESPACE,
            rbac::plugins_config_map_rules(),
            (CONTROL_PLANE_NAMESPACE, POLICY.workload),
            &labels,
        ));
        // The plugin host reserves memory for the authz plugin's instances.
        self.controller(&POLICY, args, (volumes, mounts), rbac, "512Mi")
    }

    /// ServiceAccount, RBAC, Service and Deployment of one component, in
    /// that order, so its pods start with their permissions in place.
    fn controller(
        &self,
        component: &Component,
        args: Vec<String>,
        (volumes, mounts): (Vec<Volume>, Vec<VolumeMount>),
        rbac: Vec<Object>,
        memory_limit: &str,
    ) -> Vec<Object> {
        let labels = component_labels(component);
        let selector = selector_labels(component);
        let account = ServiceAccount {
            metadata: metadata(component.workload, Some(CONTROL_PLANE_NAMESPACE), &labels),
            ..ServiceAccount::default()
        };
        let service = Service {
            metadata: metadata(component.service, Some(CONTROL_PLANE_NAMESPACE), &labels),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(selector.clone()),
                ports: Some(vec![ServicePort {
                    name: Some(GRPC_PORT_NAME.into()),
                    port: i32::from(component.port),
                    target_port: Some(IntOrString::String(GRPC_PORT_NAME.into())),
                    protocol: Some("TCP".into()),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        };
        let mut all_args = vec![
            format!("--addr={}", component.listen_addr()),
            format!("--admin-addr={}", component.admin_listen_addr()),
        ];
        all_args.extend(args);
        let container = Container {
            name: component.component.into(),
            image: Some(self.image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            command: Some(vec![
                STRAIT_BIN.to_string(),
                "controller".into(),
                component.component.into(),
            ]),
            args: Some(all_args),
            ports: Some(vec![
                meta::container_port(GRPC_PORT_NAME, component.port),
                meta::container_port(ADMIN_PORT_NAME, component.admin_port),
            ]),
            readiness_probe: Some(meta::probe(READY_PATH, ADMIN_PORT_NAME, 2)),
            liveness_probe: Some(meta::probe(LIVE_PATH, ADMIN_PORT_NAME, 10)),
            resources: Some(meta::resources("100m", "64Mi", memory_limit)),
            security_context: Some(meta::container_security(CONTROLLER_UID)),
            volume_mounts: (!mounts.is_empty()).then_some(mounts),
            ..Container::default()
        };
        let deployment = Deployment {
            metadata: metadata(component.workload, Some(CONTROL_PLANE_NAMESPACE), &labels),
            spec: DeploymentSpec {
                replicas: Some(1),
                selector: LabelSelector {
                    match_labels: Some(selector),
                    ..LabelSelector::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels.clone()),
                        annotations: Some(BTreeMap::from([(
                            strait_api::labels::INJECT.to_string(),
                            "disabled".to_string(),
                        )])),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(PodSpec {
                        service_account_name: Some(component.workload.into()),
                        security_context: Some(meta::pod_security(CONTROLLER_UID)),
                        containers: vec![container],
                        volumes: (!volumes.is_empty()).then_some(volumes),
                        ..PodSpec::default()
                    }),
                },
                ..DeploymentSpec::default()
            },
            ..Deployment::default()
        };
        let mut objects: Vec<Object> = vec![account.into()];
        objects.extend(rbac);
        objects.push(service.into());
        objects.push(deployment.into());
        objects
    }
}

/// The trust-roots ConfigMap and the issuer Secret holding `material`.
pub fn identity_objects(material: &IdentityMaterial) -> Vec<Object> {
    let labels = component_labels(&IDENTITY);
    let roots = ConfigMap {
        metadata: metadata(TRUST_ROOTS, Some(CONTROL_PLANE_NAMESPACE), &labels),
        data: Some(BTreeMap::from([(
            TRUST_ROOTS_KEY.to_string(),
            material.trust_anchors_pem.clone(),
        )])),
        ..ConfigMap::default()
    };
    let bytes = |text: &str| ByteString(text.as_bytes().to_vec());
    let issuer = Secret {
        metadata: metadata(ISSUER_SECRET, Some(CONTROL_PLANE_NAMESPACE), &labels),
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            (
                ISSUER_CERT_KEY.to_string(),
                bytes(&material.issuer_certificate_pem),
            ),
            (ISSUER_KEY_KEY.to_string(), bytes(&material.issuer_key_pem)),
            (
                ISSUER_CA_KEY.to_string(),
                bytes(&material.trust_anchors_pem),
            ),
        ])),
        ..Secret::default()
    };
    vec![roots.into(), issuer.into()]
}

/// strait's CustomResourceDefinitions, in the api crate's order.
pub fn crds() -> Result<Vec<Object>, RenderError> {
    strait_api::custom_resource_definitions()
        .map(|crds| crds.into_iter().map(Object::from).collect())
        .map_err(RenderError::Crds)
}

fn component_labels(component: &Component) -> BTreeMap<String, String> {
    labels([
        (CONTROL_PLANE_NS, CONTROL_PLANE_NAMESPACE),
        (CONTROL_PLANE_COMPONENT, component.component),
        ("app.kubernetes.io/name", component.component),
    ])
}

fn selector_labels(component: &Component) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            CONTROL_PLANE_COMPONENT.to_string(),
            component.component.to_string(),
        ),
        (
            CONTROL_PLANE_NS.to_string(),
            CONTROL_PLANE_NAMESPACE.to_string(),
        ),
    ])
}

/// The trust anchors ConfigMap as a volume, mounted at [`TRUST_ROOTS_DIR`].
fn trust_roots_volume() -> Volume {
    Volume {
        name: "trust-roots".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: TRUST_ROOTS.into(),
            items: Some(vec![key_to_path(TRUST_ROOTS_KEY, TRUST_ROOTS_KEY)]),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

fn key_to_path(key: &str, path: &str) -> KeyToPath {
    KeyToPath {
        key: key.into(),
        path: path.into(),
        ..KeyToPath::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    }
}

/// Checks that `value` of `flag` is a DNS name: labels of letters, digits
/// and `-`, joined by dots.
pub(crate) fn dns_name(flag: &str, value: &str) -> Result<(), RenderError> {
    let bad = |reason| RenderError::Invalid {
        what: format!("{flag} {value:?}"),
        reason,
    };
    if value.is_empty() || value.len() > 253 {
        return Err(bad("must be a DNS name of 1 to 253 characters"));
    }
    for label in value.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(bad(
                "must be a DNS name: lowercase letters, digits and '-', in dot-separated labels",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
