//! `strait controller ...`: the control-plane components as the container
//! images run them, against Kubernetes (in-cluster or the local kubeconfig).
//!
//! Each command parses its flags, builds the store and hands both to
//! `strait_runtime`, which `strait local` calls for its embedded clusters
//! too; what stops a controller here is Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Subcommand;
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, LINK_NAMESPACE, SERVICE_MIRROR_ADMIN_ADDR};
use strait_plugin_config::PLUGINS_CONFIG_MAP;
use strait_runtime::credentials::store_from_credentials;
use strait_runtime::mirror::{self, MirrorController};
use strait_runtime::plugins::PluginsConfigMap;
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
    /// pods, found through the Links that `multicluster link-gen` writes
    /// (each Link's credentials Secret read by name).
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
        /// The Link's namespace (the multicluster extension's, where
        /// `multicluster link-gen` writes it); its credentials Secret and
        /// the Lease are there too.
        #[arg(long, short = 'n', default_value = LINK_NAMESPACE)]
        namespace: String,
        /// Where /metrics, /ready and /live are served.
        #[arg(long, default_value_t = SERVICE_MIRROR_ADMIN_ADDR)]
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
        #[arg(long, default_value = CONTROL_PLANE_NAMESPACE)]
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

/// The Kubernetes cluster the controller runs in (in-cluster, else the
/// local kubeconfig): every controller's store.
async fn kube_store() -> Result<KubeStore, String> {
    KubeStore::infer()
        .await
        .map_err(|e| format!("cannot reach Kubernetes (in-cluster or kubeconfig): {e}"))
}

async fn service_mirror(args: ServiceMirrorArgs) -> Result<(), String> {
    let holder_identity = holder_identity(args.holder_identity, std::env::var("HOSTNAME").ok())?;
    let local = kube_store().await?;
    let controller = MirrorController {
        namespace: args.namespace,
        link: args.link,
        holder_identity,
        admin_addr: args.admin_addr,
        plugins: PluginsConfigMap::new(args.plugins_namespace, args.plugins_config_map),
    };
    // SIGTERM (a pod being stopped) or Ctrl-C: stop mirroring, then
    // release the Lease so another replica takes over at once.
    mirror::service_mirror(
        local,
        store_from_credentials,
        controller,
        crate::signal::terminated(),
    )
    .await
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
