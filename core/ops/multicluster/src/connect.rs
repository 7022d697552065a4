//! Every cluster a command reaches, by one road: kube's client over the
//! cluster's Kubernetes API, whether `--context` names it in the user's
//! kubeconfig or a Link's credentials Secret holds its kubeconfig. A
//! cluster of `strait local up` serves that API too; the
//! [`LOCAL_EXTENSION`](crate::kubeconfig::LOCAL_EXTENSION) on its cluster
//! entry is what makes it [`Flavor::Local`](crate::Flavor::Local).

use strait_store_kube::KubeStore;

use crate::cluster::{Reach, Store};
use crate::error::ClusterError;
use crate::kubeconfig::{self, UserKubeconfig};

/// A cluster as every command reaches it.
pub type KubeCluster = Store<KubeStore, RealReach>;

/// Reaches the clusters a Link's credentials name as a source cluster
/// does: through kube's client, with the credentials' kubeconfig.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealReach;

impl Reach for RealReach {
    type Target = KubeCluster;
    fn reach(&self, kubeconfig: &str) -> Result<KubeCluster, ClusterError> {
        from_kubeconfig(kubeconfig)
    }
}

/// The cluster a credentials kubeconfig reaches, by its current context.
/// Credentials must be inline (see [`KubeStore::from_kubeconfig_yaml`]):
/// they come from a Secret, not from the user.
pub fn from_kubeconfig(text: &str) -> Result<KubeCluster, ClusterError> {
    let (context, server) = kubeconfig::current_server(text)?;
    let config = kubeconfig::parse(text)?;
    let store = KubeStore::from_kubeconfig_yaml(text)?;
    let cluster = Store::new(&context, store, Some(server), RealReach);
    Ok(match kubeconfig::local_cluster_in(&config, &context) {
        Some(_) => cluster.local(kubeconfig::credentials_in(&config, &context)?),
        None => cluster,
    })
}

/// The cluster `--context` names (else the current context), found in the
/// user's kubeconfig files as kubectl finds it, with STRAIT_HOME's last.
pub async fn connect(context: Option<&str>) -> Result<KubeCluster, ClusterError> {
    let kubeconfig = UserKubeconfig::load();
    let name = kubeconfig.resolve(context)?;
    Store::for_context(&kubeconfig, &name, RealReach).await
}
