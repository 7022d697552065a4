//! `strait controller ...`: the control-plane components as the container
//! images run them, against Kubernetes (in-cluster or the local kubeconfig).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use k8s_openapi::api::core::v1::Secret;
use prometheus_client::registry::Registry;
use strait_api::labels::KUBECONFIG_KEY;
use strait_api::link::Link;
use strait_mirror::leader::{Elector, LeaseConfig, while_leading};
use strait_mirror::{MirrorMetrics, supervise_link};
use strait_plugin_config::{PluginSink, PluginSinks, follow_plugin_config_map};
use strait_plugin_host::{
    ExportPlugin, HostConfig, PLUGINS_CONFIG_MAP, PluginHost, PluginMetrics, PluginSource,
};
use strait_store::{ClusterStore, StoreError};
use strait_store_kube::KubeStore;

mod destination;
mod identity;
mod policy;
mod serving;

/// The control-plane components. Each runs in its own Deployment on
/// Kubernetes, as Linkerd's do, on Linkerd's ports, so Linkerd's proxies
/// find them where they expect; `strait local` runs the same services
/// inside one process.
#[derive(Subcommand)]
pub enum ControllerCommand {
    /// Run the identity service (Linkerd's `Identity.Certify`).
    ///
    /// Issues each proxy a short-lived certificate for its ServiceAccount,
    /// after checking its token with a TokenReview, from an issuer under
    /// the trust anchors every cluster of the mesh shares.
    Identity(identity::IdentityArgs),
    /// Run the destination service (Linkerd's `Destination.Get` and
    /// `GetProfile`).
    ///
    /// Resolves Services to their ready endpoints with each meshed pod's
    /// identity; remote-discovery mirrors resolve to the linked cluster's
    /// pods, found through the credentials Secrets that `multicluster
    /// link-gen` writes.
    Destination(destination::DestinationArgs),
    /// Run the inbound policy service (Linkerd's `InboundServerPolicies`)
    /// and the authz plugin distribution.
    ///
    /// Serves each pod port's policy from Servers, AuthorizationPolicies,
    /// MeshTLSAuthentications, NetworkAuthentications and
    /// ServerAuthorizations, and streams the authz plugin to proxies.
    Policy(policy::PolicyArgs),
    /// Run the service mirror of one Link.
    ///
    /// Watches the Link, reaches its target cluster through the Link's
    /// credentials Secret, and mirrors the Services the export plugin exports.
    /// Replicas elect one leader through Lease `service-mirror-write-<link>`
    /// in the Link's namespace; only the leader mirrors. New export plugins
    /// are taken from the plugins ConfigMap as they arrive. Serves /metrics
    /// (with `service_mirror_leader`), /ready and /live on the admin address.
    ServiceMirror {
        /// The Link's name.
        #[arg(long)]
        link: String,
        /// The Link's namespace (the control plane's).
        #[arg(long, short = 'n', default_value = "linkerd")]
        namespace: String,
        /// Where /metrics, /ready and /live are served.
        #[arg(long, default_value = "0.0.0.0:9999")]
        admin_addr: SocketAddr,
        /// This replica's name in the Lease (`holderIdentity`); the pod's
        /// name (`$HOSTNAME`) when not given.
        #[arg(long)]
        holder_identity: Option<String>,
        /// The plugins ConfigMap, followed for new export plugins (hot
        /// reload; see `strait plugin push`); empty to follow none.
        #[arg(long, default_value = PLUGINS_CONFIG_MAP)]
        plugins_config_map: String,
        /// The namespace of the plugins ConfigMap (the control plane's).
        #[arg(long, default_value = "linkerd")]
        plugins_namespace: String,
    },
}

pub fn run(command: ControllerCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            ControllerCommand::Identity(args) => identity::run(args).await,
            ControllerCommand::Destination(args) => destination::run(args).await,
            ControllerCommand::Policy(args) => policy::run(args).await,
            ControllerCommand::ServiceMirror {
                link,
                namespace,
                admin_addr,
                holder_identity,
                plugins_config_map,
                plugins_namespace,
            } => {
                service_mirror(ServiceMirrorArgs {
                    link,
                    namespace,
                    admin_addr,
                    holder_identity,
                    plugins_config_map,
                    plugins_namespace,
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The flags of `strait controller service-mirror`.
struct ServiceMirrorArgs {
    link: String,
    namespace: String,
    admin_addr: SocketAddr,
    holder_identity: Option<String>,
    plugins_config_map: String,
    plugins_namespace: String,
}

/// This replica's name in the Lease: the flag, else `hostname` (the pod's
/// name, from `$HOSTNAME`).
fn holder_identity(flag: Option<String>, hostname: Option<String>) -> Result<String, String> {
    flag.or(hostname)
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            "no holder identity for the service mirror's Lease: pass --holder-identity or set \
             HOSTNAME (the pod's name)"
                .to_string()
        })
}

async fn service_mirror(args: ServiceMirrorArgs) -> Result<(), String> {
    let ServiceMirrorArgs {
        link,
        namespace,
        admin_addr,
        holder_identity: identity_flag,
        plugins_config_map,
        plugins_namespace,
    } = args;
    let identity = holder_identity(identity_flag, std::env::var("HOSTNAME").ok())?;
    let lease = LeaseConfig::for_link(&namespace, &link, &identity);
    let local = KubeStore::infer()
        .await
        .map_err(|e| format!("cannot reach Kubernetes (in-cluster or kubeconfig): {e}"))?;
    let elector = Elector::new(local.clone(), lease)?;
    let plugin_metrics = PluginMetrics::new();
    let host = PluginHost::new(HostConfig::default(), plugin_metrics.clone())
        .map_err(|e| e.to_string())?;
    let default_plugin = PluginSource::Bytes {
        name: "the built-in export plugin",
        bytes: strait_default_plugins::EXPORT_DEFAULT,
    }
    .read()
    .map_err(|e| e.to_string())?;
    let plugin =
        Arc::new(ExportPlugin::new(&host, "export", &default_plugin).map_err(|e| e.to_string())?);
    if !plugins_config_map.is_empty() {
        // Every replica follows it, so a replica that becomes leader
        // already runs the newest good plugin.
        let slot = plugin.clone();
        let export: PluginSink =
            Arc::new(move |bytes, _| slot.load(bytes).map(drop).map_err(|e| e.to_string()));
        tokio::spawn(follow_plugin_config_map(
            local.clone(),
            plugins_namespace,
            plugins_config_map,
            host.clone(),
            PluginSinks {
                authz: None,
                export: Some(export),
            },
        ));
    }
    let mirror_metrics = MirrorMetrics::default();
    mirror_metrics.set_leader(&link, false);
    let mut registry = Registry::default();
    plugin_metrics.register(&mut registry);
    mirror_metrics.register(&mut registry);
    strait_admin::serve(admin_addr, Arc::new(registry), strait_admin::always_ready())
        .await
        .map_err(|e| format!("cannot serve the admin endpoint on {admin_addr}: {e}"))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        // SIGTERM (a pod being stopped) or Ctrl-C: stop mirroring, then
        // release the Lease so another replica takes over at once.
        crate::signal::terminated().await;
        let _ = stop.send(true);
    });
    tracing::info!(link = %link, namespace = %namespace, identity = %identity, "service mirror starting");
    let leadership = elector.spawn();
    let mut leading = leadership.watch();
    let (gauge, gauge_link) = (mirror_metrics.clone(), link.clone());
    tokio::spawn(async move {
        loop {
            let now = *leading.borrow_and_update();
            gauge.set_leader(&gauge_link, now);
            if leading.changed().await.is_err() {
                gauge.set_leader(&gauge_link, false);
                break;
            }
        }
    });
    let credentials_store = local.clone();
    let connect = move |link: Link| {
        let local = credentials_store.clone();
        async move { remote_from_credentials(&local, &link).await }
    };
    while_leading(leadership.watch(), stopped, |term_stop| {
        tracing::info!(link = %link, "leading: mirroring");
        supervise_link(
            local.clone(),
            namespace.clone(),
            link.clone(),
            connect.clone(),
            plugin.clone(),
            mirror_metrics.clone(),
            term_stop,
        )
    })
    .await;
    leadership.release().await;
    Ok(())
}

/// The target cluster of `link`, through its credentials Secret (type
/// `mirror.linkerd.io/remote-kubeconfig`, key `kubeconfig`) in the Link's
/// namespace. Every fault names the Link and the Secret.
pub(crate) async fn remote_from_credentials<L: ClusterStore>(
    local: &L,
    link: &Link,
) -> Result<KubeStore, StoreError> {
    let namespace = link
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let link_name = link.metadata.name.clone().unwrap_or_default();
    let invalid = |reason: String| StoreError::Invalid {
        what: format!("credentials of link {namespace}/{link_name}"),
        reason,
    };
    let secret_name = link
        .spec
        .cluster_credentials_secret
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("spec.clusterCredentialsSecret is not set".into()))?;
    let secret: Secret =
        local
            .get(&namespace, &secret_name)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!(
                    "secrets {secret_name:?} in {namespace} (the credentials of link {link_name})"
                ),
            })?;
    store_from_credentials(&secret)
}

/// A client of the cluster a credentials Secret (key `kubeconfig`) points
/// at; the Link's mirror and the destination service both reach linked
/// clusters this way. Every fault names the Secret.
pub(crate) fn store_from_credentials(secret: &Secret) -> Result<KubeStore, StoreError> {
    let secret_name = format!(
        "{}/{}",
        secret.metadata.namespace.as_deref().unwrap_or_default(),
        secret.metadata.name.as_deref().unwrap_or_default()
    );
    let invalid = |reason: String| StoreError::Invalid {
        what: format!("credentials secret {secret_name}"),
        reason,
    };
    let kubeconfig = secret
        .data
        .as_ref()
        .and_then(|d| d.get(KUBECONFIG_KEY))
        .ok_or_else(|| {
            invalid(format!(
                "secret {secret_name} has no `{KUBECONFIG_KEY}` key"
            ))
        })?;
    let text = std::str::from_utf8(&kubeconfig.0).map_err(|_| {
        invalid(format!(
            "secret {secret_name}: `{KUBECONFIG_KEY}` is not UTF-8 text"
        ))
    })?;
    KubeStore::from_kubeconfig_yaml(text)
}

#[cfg(test)]
mod tests;
