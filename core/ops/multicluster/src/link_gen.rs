//! `strait multicluster link-gen`: the credentials Secrets and the Link that
//! let a source cluster mirror this (target) cluster, printed as YAML to
//! apply in the source cluster, as `linkerd multicluster link-gen` prints
//! them: the Link and the service mirror's Secret in `linkerd-multicluster`,
//! and the destination service's copy of the Secret in `linkerd`.
//!
//! For a Kubernetes cluster the credentials are a kubeconfig holding the
//! token of the multicluster extension's remote-access account and the API
//! server's CA, as Linkerd writes them. For a local cluster they are its
//! context's own entry (the run's API server, CA and token) with the
//! `strait.io/local` extension, by which each later run of `strait local
//! up` rewrites them with that run's.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::labels::{
    CLUSTER_DOMAIN, CLUSTER_NAME, KUBECONFIG_KEY, REMOTE_KUBECONFIG_SECRET_TYPE, TRUST_DOMAIN,
};
use strait_api::link::{Link, LinkSpec, ProbeSpec};
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, GATEWAY, GATEWAY_PORT, GATEWAY_PORT_NAME, GATEWAY_PROBE_PATH,
    GATEWAY_PROBE_PORT, GATEWAY_PROBE_PORT_NAME, LINK_NAMESPACE, MULTICLUSTER_NAMESPACE,
    link_credentials,
};

use crate::cluster::{Cluster, Facts, Flavor, selected_pod_ips};
use crate::error::ClusterError;
use crate::kubeconfig::KubeconfigError;
use crate::selector::{self, SelectorError};
use crate::{YamlError, document};

/// The gateway's Service (and Deployment and ServiceAccount), in
/// `linkerd-multicluster`.
pub const GATEWAY_SERVICE: &str = GATEWAY;
/// The `--selector` a Link gets unless told otherwise: Linkerd's
/// gateway-mode export label.
pub const DEFAULT_SELECTOR: &str = "mirror.linkerd.io/exported=true";
/// The `--remote-discovery-selector` unless told otherwise.
pub const DEFAULT_REMOTE_DISCOVERY_SELECTOR: &str = "mirror.linkerd.io/exported=remote-discovery";
/// The `--federated-service-selector` unless told otherwise.
pub const DEFAULT_FEDERATED_SERVICE_SELECTOR: &str = "mirror.linkerd.io/federated=member";

/// What `link-gen` is asked for: Linkerd's flags, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkGenOptions {
    /// Name of this (target) cluster as the source cluster will know it:
    /// the Link's name and the suffix of mirror Services.
    pub cluster_name: String,
    /// Mirror through this cluster's gateway; false for pod-to-pod links.
    pub gateway: bool,
    /// Gateway addresses (comma-separated); `None`: the gateway Service's
    /// load balancer addresses (on a local cluster, else its pods' IPs).
    pub gateway_addresses: Option<String>,
    /// Gateway port; `None`: the gateway Service's `mc-gateway` port, else 4143.
    pub gateway_port: Option<u16>,
    /// Services exported through the gateway, in kubectl's selector syntax.
    pub selector: String,
    /// Services exported in remote-discovery (pod-to-pod) mode.
    pub remote_discovery_selector: String,
    /// Services that join federated Services.
    pub federated_service_selector: String,
    /// The API server address written into the credentials; `None`: the
    /// context's server in the kubeconfig (for a local cluster, the cluster).
    pub api_server_address: Option<String>,
}

impl LinkGenOptions {
    /// Linkerd's defaults for a link to a cluster known as `cluster_name`.
    pub fn new(cluster_name: &str) -> Self {
        LinkGenOptions {
            cluster_name: cluster_name.to_string(),
            gateway: true,
            gateway_addresses: None,
            gateway_port: None,
            selector: DEFAULT_SELECTOR.into(),
            remote_discovery_selector: DEFAULT_REMOTE_DISCOVERY_SELECTOR.into(),
            federated_service_selector: DEFAULT_FEDERATED_SERVICE_SELECTOR.into(),
            api_server_address: None,
        }
    }
}

/// Why no link can be generated, naming the flag or the missing object.
#[derive(Debug, thiserror::Error)]
pub enum LinkGenError {
    /// `--cluster-name` is empty.
    #[error("--cluster-name must not be empty")]
    EmptyClusterName,
    /// A selector flag does not parse.
    #[error("{flag}: {source}")]
    Selector {
        /// The flag, e.g. `--selector`.
        flag: &'static str,
        /// What is wrong with it.
        source: SelectorError,
    },
    /// The cluster cannot be read.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The credentials cannot be written as a kubeconfig.
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    /// The documents cannot be written.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// A gateway-mode link to a cluster without a gateway.
    #[error(
        "cluster {cluster} has no gateway (Service {GATEWAY_SERVICE} in namespace {MULTICLUSTER_NAMESPACE}): install the multicluster extension with its gateway (`strait multicluster install`), or pass --gateway=false for a pod-to-pod link"
    )]
    NoGateway {
        /// The target cluster.
        cluster: String,
    },
    /// The gateway's load balancer has no address yet.
    #[error(
        "cluster {cluster}: Service {GATEWAY_SERVICE} in {MULTICLUSTER_NAMESPACE} has no load balancer address yet; wait for one, pass --gateway-addresses, or --gateway=false for a pod-to-pod link"
    )]
    NoLoadBalancer {
        /// The target cluster.
        cluster: String,
    },
    /// A local gateway with no running pod.
    #[error(
        "cluster {cluster}: no running gateway pod with an IP behind Service {GATEWAY_SERVICE} in {MULTICLUSTER_NAMESPACE}; wait for it, pass --gateway-addresses, or --gateway=false for a pod-to-pod link"
    )]
    NoGatewayPod {
        /// The target cluster.
        cluster: String,
    },
}

/// The Link's Namespace, the two credentials Secrets (the service
/// mirror's beside the Link, the destination's in the control plane's
/// namespace) and the Link, as one YAML stream. The Namespace comes first
/// because the Secret cannot be applied into a namespace that does not
/// exist; applying it where it exists changes nothing.
pub async fn generate<C: Cluster>(
    cluster: &C,
    args: &LinkGenOptions,
) -> Result<String, LinkGenError> {
    let name = args.cluster_name.as_str();
    if name.is_empty() {
        return Err(LinkGenError::EmptyClusterName);
    }
    let parse = |flag: &'static str, text: &str| {
        selector::parse(text).map_err(|source| LinkGenError::Selector { flag, source })
    };
    let selector = parse("--selector", &args.selector)?;
    let remote_discovery_selector = parse(
        "--remote-discovery-selector",
        &args.remote_discovery_selector,
    )?;
    let federated_service_selector = parse(
        "--federated-service-selector",
        &args.federated_service_selector,
    )?;
    let facts = cluster.facts().await?;
    let credentials = cluster
        .credentials(args.api_server_address.as_deref())
        .await?;
    let kubeconfig = credentials.to_kubeconfig()?;
    let secret_name = link_credentials(name);
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(LINK_NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let kubeconfig = ByteString(kubeconfig.into_bytes());
    let credentials = |namespace: &str, meta: ObjectMeta| Secret {
        metadata: ObjectMeta {
            name: Some(secret_name.clone()),
            namespace: Some(namespace.into()),
            ..meta
        },
        type_: Some(REMOTE_KUBECONFIG_SECRET_TYPE.into()),
        data: Some(BTreeMap::from([(
            KUBECONFIG_KEY.into(),
            kubeconfig.clone(),
        )])),
        ..Secret::default()
    };
    // The service mirror's copy, beside the Link.
    let mirror_secret = credentials(LINK_NAMESPACE, ObjectMeta::default());
    // The destination service's copy, in its own namespace, labelled with
    // the cluster's name and carrying its domains, as Linkerd's is.
    let destination_secret = credentials(
        CONTROL_PLANE_NAMESPACE,
        ObjectMeta {
            labels: Some(BTreeMap::from([(CLUSTER_NAME.into(), name.into())])),
            annotations: Some(BTreeMap::from([
                (TRUST_DOMAIN.into(), facts.trust_domain.clone()),
                (CLUSTER_DOMAIN.into(), facts.cluster_domain.clone()),
            ])),
            ..ObjectMeta::default()
        },
    );
    let mut spec = LinkSpec {
        target_cluster_name: Some(name.into()),
        target_cluster_domain: Some(facts.cluster_domain.clone()),
        target_cluster_linkerd_namespace: Some(facts.control_plane_namespace.clone()),
        cluster_credentials_secret: Some(secret_name),
        selector: Some(selector),
        remote_discovery_selector: Some(remote_discovery_selector),
        federated_service_selector: Some(federated_service_selector),
        ..LinkSpec::default()
    };
    if args.gateway {
        let gateway = gateway(cluster, &facts, args).await?;
        spec.gateway_address = Some(gateway.addresses);
        spec.gateway_port = Some(gateway.port.to_string());
        spec.gateway_identity = Some(gateway.identity);
        spec.probe_spec = Some(gateway.probe);
    }
    let mut link = Link::new(name, spec);
    link.metadata.namespace = Some(LINK_NAMESPACE.into());
    Ok([
        document(&namespace)?,
        document(&mirror_secret)?,
        document(&destination_secret)?,
        document(&link)?,
    ]
    .concat())
}

/// What a gateway-mode Link needs to know of the target's gateway.
struct Gateway {
    addresses: String,
    port: u16,
    identity: String,
    probe: ProbeSpec,
}

/// Finds the gateway: the Service `linkerd-gateway` in
/// `linkerd-multicluster`, reached at its load balancer's addresses (on a
/// local cluster, where pods are addressed directly, at its pods' IPs when
/// it has none), unless flags say otherwise.
async fn gateway<C: Cluster>(
    cluster: &C,
    facts: &Facts,
    args: &LinkGenOptions,
) -> Result<Gateway, LinkGenError> {
    let service: Service = cluster
        .get(MULTICLUSTER_NAMESPACE, GATEWAY_SERVICE)
        .await?
        .ok_or_else(|| LinkGenError::NoGateway {
            cluster: cluster.name().to_string(),
        })?;
    let local = cluster.flavor() == Flavor::Local;
    let ports: &[ServicePort] = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    let port_named = |wanted: &str| {
        let port = ports.iter().find(|p| p.name.as_deref() == Some(wanted))?;
        // Local pods are reached directly, at the port they listen on;
        // Kubernetes gateways through their Service's load balancer.
        let number = match (&port.target_port, local) {
            (Some(IntOrString::Int(target)), true) => *target,
            _ => port.port,
        };
        u16::try_from(number).ok()
    };
    let port = args
        .gateway_port
        .or_else(|| port_named(GATEWAY_PORT_NAME))
        .unwrap_or(GATEWAY_PORT);
    let probe_port = port_named(GATEWAY_PROBE_PORT_NAME).unwrap_or(GATEWAY_PROBE_PORT);
    let addresses = match &args.gateway_addresses {
        Some(addresses) => addresses.clone(),
        None => gateway_addresses(cluster, &service).await?,
    };
    let annotation = |key: &str| {
        service
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .cloned()
    };
    let identity = annotation("mirror.linkerd.io/gateway-identity").unwrap_or_else(|| {
        format!(
            "{GATEWAY_SERVICE}.{MULTICLUSTER_NAMESPACE}.serviceaccount.identity.{}.{}",
            facts.control_plane_namespace, facts.trust_domain
        )
    });
    Ok(Gateway {
        addresses,
        port,
        identity,
        probe: ProbeSpec {
            path: Some(
                annotation("mirror.linkerd.io/probe-path")
                    .unwrap_or_else(|| GATEWAY_PROBE_PATH.into()),
            ),
            port: Some(probe_port.to_string()),
            period: Some(
                annotation("mirror.linkerd.io/probe-period").unwrap_or_else(|| "3s".into()),
            ),
            timeout: Some("30s".into()),
            failure_threshold: Some("3".into()),
        },
    })
}

/// The gateway's addresses, comma-separated: its load balancer's IPs and
/// hostnames; on a local cluster without one, the IPs of its pods.
async fn gateway_addresses<C: Cluster>(
    cluster: &C,
    service: &Service,
) -> Result<String, LinkGenError> {
    let ingress: Vec<String> = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone()))
        .filter(|a| !a.is_empty())
        .collect();
    if !ingress.is_empty() {
        return Ok(ingress.join(","));
    }
    if cluster.flavor() == Flavor::Kubernetes {
        return Err(LinkGenError::NoLoadBalancer {
            cluster: cluster.name().to_string(),
        });
    }
    let ips = selected_pod_ips(cluster, service).await?;
    if ips.is_empty() {
        return Err(LinkGenError::NoGatewayPod {
            cluster: cluster.name().to_string(),
        });
    }
    Ok(ips.join(","))
}

#[cfg(test)]
mod tests;
