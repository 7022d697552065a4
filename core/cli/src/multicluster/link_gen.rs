//! `strait multicluster link-gen`: the credentials Secret and the Link that
//! let a source cluster mirror this (target) cluster, printed as YAML to
//! apply in the source cluster, as `linkerd multicluster link-gen` prints them.
//!
//! For a local cluster the credentials are a kubeconfig whose server is
//! `strait-local://<cluster>`, which the embedded runtime resolves to that
//! cluster; there is no token to leak.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{ArgAction, Args};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;
use strait_api::labels::{CLUSTER_DOMAIN, CLUSTER_NAME, TRUST_DOMAIN};
use strait_api::link::{Link, LinkSpec, ProbeSpec};
use strait_local_api::{ClusterInfo, LocalClient};

use super::selector;

/// Namespace of the Link and its Secret in the source cluster: the control
/// plane's, where strait's service mirror looks for them.
pub const LINK_NAMESPACE: &str = "linkerd";
/// Type of a credentials Secret, which Linkerd's tooling also recognises.
pub const CREDENTIALS_TYPE: &str = "mirror.linkerd.io/remote-kubeconfig";
/// Scheme of a kubeconfig server naming a cluster of the running `local up`.
pub const LOCAL_SCHEME: &str = "strait-local://";
/// Where the multicluster extension runs its gateway.
const GATEWAY_NAMESPACE: &str = "linkerd-multicluster";
const GATEWAY_SERVICE: &str = "linkerd-gateway";

/// `link-gen`'s arguments, as Linkerd's.
#[derive(Args, Debug)]
pub struct LinkGenArgs {
    /// Name of this (target) cluster as the source cluster will know it:
    /// the Link's name and the suffix of mirror Services.
    #[arg(long)]
    cluster_name: String,
    /// Mirror through this cluster's gateway; `--gateway=false` for
    /// pod-to-pod links.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    gateway: bool,
    /// Gateway addresses (comma-separated); default: the gateway pods' IPs.
    #[arg(long)]
    gateway_addresses: Option<String>,
    /// Gateway port; default: the gateway Service's `mc-gateway` port, else 4143.
    #[arg(long)]
    gateway_port: Option<u16>,
    /// Services exported through the gateway.
    #[arg(long, default_value = "mirror.linkerd.io/exported=true")]
    selector: String,
    /// Services exported in remote-discovery (pod-to-pod) mode.
    #[arg(long, default_value = "mirror.linkerd.io/exported=remote-discovery")]
    remote_discovery_selector: String,
    /// Services that join federated Services.
    #[arg(long, default_value = "mirror.linkerd.io/federated=member")]
    federated_service_selector: String,
    /// The server written into the credentials; default: this local cluster.
    #[arg(long)]
    api_server_address: Option<String>,
}

/// Prints the documents, or why they cannot be made.
pub async fn run(client: LocalClient, args: LinkGenArgs) -> ExitCode {
    match generate(&client, &args).await {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The Namespace, the credentials Secret and the Link, as one YAML stream.
/// The Namespace comes first because the Secret cannot be applied into a
/// namespace that does not exist; applying it where it exists changes
/// nothing.
pub async fn generate(client: &LocalClient, args: &LinkGenArgs) -> Result<String, String> {
    let name = args.cluster_name.as_str();
    if name.is_empty() {
        return Err("--cluster-name must not be empty".into());
    }
    let info = client.info().await.map_err(|e| e.to_string())?;
    let server = args
        .api_server_address
        .clone()
        .unwrap_or_else(|| format!("{LOCAL_SCHEME}{}", client.context()));
    let secret_name = format!("cluster-credentials-{name}");
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(LINK_NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let kubeconfig = serde_norway::to_string(&Kubeconfig::new(client.context(), &server))
        .map_err(|e| format!("writing the kubeconfig: {e}"))?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(secret_name.clone()),
            namespace: Some(LINK_NAMESPACE.into()),
            labels: Some(BTreeMap::from([(CLUSTER_NAME.into(), name.into())])),
            annotations: Some(BTreeMap::from([
                (TRUST_DOMAIN.into(), info.trust_domain.clone()),
                (CLUSTER_DOMAIN.into(), info.cluster_domain.clone()),
            ])),
            ..ObjectMeta::default()
        },
        type_: Some(CREDENTIALS_TYPE.into()),
        data: Some(BTreeMap::from([(
            "kubeconfig".into(),
            ByteString(kubeconfig.into_bytes()),
        )])),
        ..Secret::default()
    };
    let mut spec = LinkSpec {
        target_cluster_name: Some(name.into()),
        target_cluster_domain: Some(info.cluster_domain.clone()),
        target_cluster_linkerd_namespace: Some(info.control_plane_namespace.clone()),
        cluster_credentials_secret: Some(secret_name),
        selector: Some(selector::parse(&args.selector)?),
        remote_discovery_selector: Some(selector::parse(&args.remote_discovery_selector)?),
        federated_service_selector: Some(selector::parse(&args.federated_service_selector)?),
        ..LinkSpec::default()
    };
    if args.gateway {
        let gateway = gateway(client, &info, args).await?;
        spec.gateway_address = Some(gateway.addresses);
        spec.gateway_port = Some(gateway.port.to_string());
        spec.gateway_identity = Some(gateway.identity);
        spec.probe_spec = Some(gateway.probe);
    }
    let mut link = Link::new(name, spec);
    link.metadata.namespace = Some(LINK_NAMESPACE.into());
    Ok([document(&namespace)?, document(&secret)?, document(&link)?].concat())
}

fn document<T: Serialize>(object: &T) -> Result<String, String> {
    serde_norway::to_string(object)
        .map(|yaml| format!("---\n{yaml}"))
        .map_err(|e| format!("writing YAML: {e}"))
}

/// What a gateway-mode Link needs to know of the target's gateway.
struct Gateway {
    addresses: String,
    port: u16,
    identity: String,
    probe: ProbeSpec,
}

/// Finds the gateway: the Service `linkerd-gateway` in
/// `linkerd-multicluster`, reached at its pods' IPs (pods are addressed
/// directly on the local flat network), unless flags say otherwise.
async fn gateway(
    client: &LocalClient,
    info: &ClusterInfo,
    args: &LinkGenArgs,
) -> Result<Gateway, String> {
    let services = client
        .objects("Service", None, Some(GATEWAY_NAMESPACE))
        .await
        .map_err(|e| e.to_string())?;
    let service = services
        .into_iter()
        .find(|s| s["metadata"]["name"] == GATEWAY_SERVICE)
        .ok_or_else(|| {
            format!(
                "cluster {} has no gateway (Service {GATEWAY_SERVICE} in namespace {GATEWAY_NAMESPACE}): install the multicluster extension with its gateway, or pass --gateway=false for a pod-to-pod link",
                client.context()
            )
        })?;
    let port_named = |wanted: &str| {
        service["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == wanted)
            .and_then(|p| p["targetPort"].as_u64().or(p["port"].as_u64()))
            .and_then(|p| u16::try_from(p).ok())
    };
    let port = args
        .gateway_port
        .or_else(|| port_named("mc-gateway"))
        .unwrap_or(4143);
    let probe_port = port_named("mc-probe").unwrap_or(4191);
    let addresses = match &args.gateway_addresses {
        Some(addresses) => addresses.clone(),
        None => gateway_pod_ips(client, &service).await?,
    };
    let annotation = |key: &str| {
        service["metadata"]["annotations"][key]
            .as_str()
            .map(str::to_string)
    };
    let identity = annotation("mirror.linkerd.io/gateway-identity").unwrap_or_else(|| {
        format!(
            "{GATEWAY_SERVICE}.{GATEWAY_NAMESPACE}.serviceaccount.identity.{}.{}",
            info.control_plane_namespace, info.trust_domain
        )
    });
    Ok(Gateway {
        addresses,
        port,
        identity,
        probe: ProbeSpec {
            path: Some(
                annotation("mirror.linkerd.io/probe-path").unwrap_or_else(|| "/ready".into()),
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

/// The IPs of the pods the gateway Service selects, comma-separated.
async fn gateway_pod_ips(client: &LocalClient, service: &Value) -> Result<String, String> {
    let selector: BTreeMap<String, String> =
        serde_json::from_value(service["spec"]["selector"].clone()).unwrap_or_default();
    let pods = client
        .objects("Pod", None, Some(GATEWAY_NAMESPACE))
        .await
        .map_err(|e| e.to_string())?;
    let ips: Vec<String> = pods
        .iter()
        .filter(|pod| {
            !selector.is_empty()
                && selector
                    .iter()
                    .all(|(k, v)| pod["metadata"]["labels"][k].as_str() == Some(v))
        })
        .filter_map(|pod| pod["status"]["podIP"].as_str().filter(|ip| !ip.is_empty()))
        .map(str::to_string)
        .collect();
    if ips.is_empty() {
        return Err(format!(
            "cluster {}: no running gateway pod with an IP behind Service {GATEWAY_SERVICE} in {GATEWAY_NAMESPACE}; wait for it, pass --gateway-addresses, or --gateway=false for a pod-to-pod link",
            client.context()
        ));
    }
    Ok(ips.join(","))
}

/// The kubeconfig in the credentials Secret: one cluster, one context, a
/// user without secrets (local clusters need none).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    clusters: Vec<Named<ClusterEntry>>,
    contexts: Vec<Named<ContextEntry>>,
    current_context: String,
    users: Vec<Named<UserEntry>>,
}

#[derive(Serialize)]
struct Named<T> {
    name: String,
    #[serde(flatten)]
    value: T,
}

#[derive(Serialize)]
struct ClusterEntry {
    cluster: Server,
}

#[derive(Serialize)]
struct Server {
    server: String,
}

#[derive(Serialize)]
struct ContextEntry {
    context: ContextRef,
}

#[derive(Serialize)]
struct ContextRef {
    cluster: String,
    user: String,
}

#[derive(Serialize)]
struct UserEntry {
    user: NoCredentials,
}

/// `{}`: local clusters take no token or certificate.
#[derive(Serialize)]
struct NoCredentials {}

impl Kubeconfig {
    fn new(cluster: &str, server: &str) -> Self {
        let user = format!("{cluster}-mirror");
        Kubeconfig {
            api_version: "v1",
            kind: "Config",
            clusters: vec![Named {
                name: cluster.into(),
                value: ClusterEntry {
                    cluster: Server {
                        server: server.into(),
                    },
                },
            }],
            contexts: vec![Named {
                name: cluster.into(),
                value: ContextEntry {
                    context: ContextRef {
                        cluster: cluster.into(),
                        user: user.clone(),
                    },
                },
            }],
            current_context: cluster.into(),
            users: vec![Named {
                name: user,
                value: UserEntry {
                    user: NoCredentials {},
                },
            }],
        }
    }
}
