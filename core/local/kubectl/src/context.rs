//! Which cluster a command talks to: `--context` resolved as kubectl
//! resolves it, against the clusters of a running `strait local up` first
//! and the kubeconfig second.

use std::path::PathBuf;

use strait_local_api::{ClientError, LocalClient, LocalContext, Registry, RegistryError};

use strait_multicluster::kubeconfig::UserKubeconfig;
use strait_multicluster::{Cluster, ClusterError, Facts, Store};

use crate::cluster::{AnyCluster, Local, RealReach, backend};

/// Where a command goes.
#[derive(Debug)]
pub enum Target {
    /// A cluster of a running `strait local up`.
    Local(Box<LocalClient>),
    /// A Kubernetes cluster, by its kubeconfig context.
    Kubernetes {
        /// The context's name.
        context: String,
        /// Its cluster's API server in the kubeconfig, if it has one.
        server: Option<String>,
    },
}

/// `--context` names no cluster to talk to, or several could be meant.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The registry of running local clusters cannot be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A registered local cluster's API address or token file is unusable.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The name is neither a local cluster nor a kubeconfig context.
    #[error(
        "context {context:?} is neither a running `strait local up` cluster nor a kubeconfig context ({})",
        running_clause(running, registry)
    )]
    Unknown {
        /// The name given.
        context: String,
        /// The local clusters that are running.
        running: Vec<String>,
        /// The registry they were looked up in.
        registry: PathBuf,
    },
    /// Without `--context`: no local cluster and no current context.
    #[error(
        "no cluster to talk to: no `strait local up` is running (none in {}) and the kubeconfig has no current context; start one with `strait local up DIR` or pass --context",
        registry.display()
    )]
    NoCluster {
        /// The registry that lists no cluster.
        registry: PathBuf,
    },
    /// Without `--context`: several local clusters run.
    #[error(
        "{} local clusters are running ({}): choose one with --context",
        running.len(),
        running.join(", ")
    )]
    Ambiguous {
        /// Their names.
        running: Vec<String>,
    },
}

fn running_clause(running: &[String], registry: &std::path::Path) -> String {
    if running.is_empty() {
        format!(
            "no local cluster is running (none in {})",
            registry.display()
        )
    } else {
        format!("running local clusters: {}", running.join(", "))
    }
}

/// Finds the cluster `--context` names: a registered local context, else a
/// kubeconfig context. Without `--context`, the only running local cluster;
/// with several, the user must choose; with none, the kubeconfig's
/// current context (which kubectl would use).
pub fn resolve(context: Option<&str>) -> Result<Target, ContextError> {
    let registry = Registry::from_env()?;
    let local = registry.contexts()?;
    let client = |name: &str, entry: &LocalContext| -> Result<Target, ContextError> {
        Ok(Target::Local(Box::new(LocalClient::for_context(
            name, entry,
        )?)))
    };
    let kubeconfig = UserKubeconfig::load();
    let kubernetes = |context: &str| Target::Kubernetes {
        context: context.to_string(),
        server: kubeconfig.server_of(context),
    };
    let running = || local.keys().cloned().collect::<Vec<_>>();
    match context {
        Some(name) => {
            if let Some(found) = local.get(name) {
                return client(name, found);
            }
            if kubeconfig.has_context(name) {
                return Ok(kubernetes(name));
            }
            Err(ContextError::Unknown {
                context: name.to_string(),
                running: running(),
                registry: registry.path().to_path_buf(),
            })
        }
        None => {
            let mut clusters = local.iter();
            match (clusters.next(), clusters.next()) {
                (Some((name, found)), None) => client(name, found),
                (None, _) => match kubeconfig.current_context() {
                    Some(current) => Ok(kubernetes(current)),
                    None => Err(ContextError::NoCluster {
                        registry: registry.path().to_path_buf(),
                    }),
                },
                (Some(_), Some(_)) => Err(ContextError::Ambiguous { running: running() }),
            }
        }
    }
}

impl Target {
    /// The cluster behind the target, connected: a local cluster's client
    /// as it is, a kubeconfig context through kube's client.
    pub async fn connect(self) -> Result<AnyCluster, ClusterError> {
        Ok(match self {
            Target::Local(client) => AnyCluster::Local(Box::new(Local::new(*client))),
            Target::Kubernetes { context, server } => AnyCluster::Kube(Box::new(
                Store::for_context(&context, server, RealReach).await?,
            )),
        })
    }
}

/// The naming and identity settings of the cluster `context` names (as
/// `--context` resolves it), for commands that render manifests for that
/// cluster (`strait inject`), as `linkerd inject` reads `linkerd-config`.
pub async fn facts(context: Option<&str>) -> Result<Facts, ClusterError> {
    resolve(context)
        .map_err(backend)?
        .connect()
        .await?
        .facts()
        .await
}
