//! A cluster of a running `strait local up` as the multicluster commands
//! see it: the [`Cluster`] trait over the local API's client, and
//! [`AnyCluster`], either kind, as `--context` or a Link's credentials name
//! one.

use serde::de::DeserializeOwned;
use strait_local_api::{LOCAL_SCHEME, LocalClient, Registry};
use strait_multicluster::cluster::{Cluster, Flavor, Reach, Store};
use strait_multicluster::kubeconfig::{self, Credentials};
use strait_multicluster::{ClusterError, Facts};
use strait_store::StoredObject;
use strait_store_kube::KubeStore;

/// A local cluster's own error (its API, its registry) as the commands'
/// cluster error, whose message it keeps.
pub(crate) fn backend(error: impl std::error::Error + Send + Sync + 'static) -> ClusterError {
    ClusterError::Backend(Box::new(error))
}

/// A cluster of a running `strait local up`.
#[derive(Clone, Debug)]
pub struct Local {
    client: LocalClient,
}

impl Local {
    /// The cluster `client` talks to.
    pub fn new(client: LocalClient) -> Self {
        Local { client }
    }
}

/// Reads each listed object as `K`, naming the first that cannot be read.
fn typed<K: DeserializeOwned>(
    values: Vec<serde_json::Value>,
    kind: &str,
) -> Result<Vec<K>, ClusterError> {
    values
        .into_iter()
        .map(|value| {
            let field = |key: &str| value["metadata"][key].as_str().unwrap_or("").to_string();
            let (namespace, name) = (field("namespace"), field("name"));
            serde_json::from_value(value).map_err(|e| ClusterError::Unreadable {
                kind: kind.to_string(),
                namespace,
                name,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// An object as a document the local API applies: with its `apiVersion`
/// and `kind`, which typed objects leave out when serialized.
pub fn to_manifest<K: StoredObject>(object: &K) -> Result<serde_json::Value, ClusterError> {
    let encode = |reason: String| ClusterError::Encode {
        kind: K::kind(&()).into_owned(),
        name: object.meta().name.clone().unwrap_or_default(),
        reason,
    };
    let mut value = serde_json::to_value(object).map_err(|e| encode(e.to_string()))?;
    let fields = value
        .as_object_mut()
        .ok_or_else(|| encode("not an object".into()))?;
    fields.insert("apiVersion".into(), K::api_version(&()).into_owned().into());
    fields.insert("kind".into(), K::kind(&()).into_owned().into());
    Ok(value)
}

impl Cluster for Local {
    type Remote = AnyCluster;

    fn name(&self) -> &str {
        self.client.context()
    }

    fn flavor(&self) -> Flavor {
        Flavor::Local
    }

    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, ClusterError> {
        let kind = K::kind(&());
        let group = K::group(&());
        let group = (!group.is_empty()).then_some(group.as_ref());
        let values = self
            .client
            .objects(&kind, group, namespace)
            .await
            .map_err(backend)?;
        typed(values, &kind)
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        _field_manager: &str,
    ) -> Result<(), ClusterError> {
        // The local API applies as one manager of its own.
        let text = to_manifest(object)?.to_string();
        self.client
            .apply(&text, object.meta().namespace.as_deref())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn facts(&self) -> Result<Facts, ClusterError> {
        let info = self.client.info().await.map_err(backend)?;
        Ok(Facts {
            cluster_domain: info.cluster_domain,
            trust_domain: info.trust_domain,
            control_plane_namespace: info.control_plane_namespace,
            trust_anchors_pem: info.trust_anchors_pem,
        })
    }

    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, ClusterError> {
        Ok(Credentials {
            cluster: self.name().to_string(),
            server: server.map_or_else(|| format!("{LOCAL_SCHEME}{}", self.name()), str::to_string),
            user: format!("{}-mirror", self.name()),
            certificate_authority: None,
            token: None,
        })
    }

    async fn reach(&self, kubeconfig: &str) -> Result<AnyCluster, ClusterError> {
        AnyCluster::from_kubeconfig(kubeconfig)
    }
}

/// Reaches clusters as a real source cluster does: `strait-local://` servers
/// through the local registry, anything else through kube's client.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealReach;

impl Reach for RealReach {
    type Target = AnyCluster;
    fn reach(&self, kubeconfig: &str) -> Result<AnyCluster, ClusterError> {
        AnyCluster::from_kubeconfig(kubeconfig)
    }
}

/// A cluster of either kind: the one `--context` names, or one a Link's
/// credentials reach.
#[derive(Clone, Debug)]
pub enum AnyCluster {
    /// A cluster of a running `strait local up`.
    Local(Box<Local>),
    /// A Kubernetes cluster.
    Kube(Box<Store<KubeStore, RealReach>>),
}

impl AnyCluster {
    /// The cluster a credentials kubeconfig reaches: a `strait-local://`
    /// server names a running local cluster; anything else is a Kubernetes
    /// API server.
    pub fn from_kubeconfig(text: &str) -> Result<Self, ClusterError> {
        let (context, server) = kubeconfig::current_server(text)?;
        if let Some(cluster) = server.strip_prefix(LOCAL_SCHEME) {
            let cluster = cluster.trim_end_matches('/');
            let registry = Registry::from_env().map_err(backend)?;
            let found = registry.lookup(cluster).map_err(backend)?.ok_or_else(|| {
                ClusterError::NoLocalCluster {
                    server: server.clone(),
                    cluster: cluster.to_string(),
                    registry: registry.path().to_path_buf(),
                }
            })?;
            let client = LocalClient::for_context(cluster, &found).map_err(backend)?;
            return Ok(AnyCluster::Local(Box::new(Local::new(client))));
        }
        let store = KubeStore::from_kubeconfig_yaml(text)?;
        Ok(AnyCluster::Kube(Box::new(Store::new(
            &context,
            store,
            Some(server),
            RealReach,
        ))))
    }
}

impl Cluster for AnyCluster {
    type Remote = AnyCluster;

    fn name(&self) -> &str {
        match self {
            AnyCluster::Local(c) => c.name(),
            AnyCluster::Kube(c) => c.name(),
        }
    }

    fn flavor(&self) -> Flavor {
        match self {
            AnyCluster::Local(c) => c.flavor(),
            AnyCluster::Kube(c) => c.flavor(),
        }
    }

    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, ClusterError> {
        match self {
            AnyCluster::Local(c) => c.list(namespace).await,
            AnyCluster::Kube(c) => c.list(namespace).await,
        }
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, ClusterError> {
        match self {
            AnyCluster::Local(c) => c.get(namespace, name).await,
            AnyCluster::Kube(c) => c.get(namespace, name).await,
        }
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<(), ClusterError> {
        match self {
            AnyCluster::Local(c) => c.apply(object, field_manager).await,
            AnyCluster::Kube(c) => c.apply(object, field_manager).await,
        }
    }

    async fn facts(&self) -> Result<Facts, ClusterError> {
        match self {
            AnyCluster::Local(c) => c.facts().await,
            AnyCluster::Kube(c) => c.facts().await,
        }
    }

    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, ClusterError> {
        match self {
            AnyCluster::Local(c) => c.credentials(server).await,
            AnyCluster::Kube(c) => c.credentials(server).await,
        }
    }

    async fn reach(&self, kubeconfig: &str) -> Result<AnyCluster, ClusterError> {
        AnyCluster::from_kubeconfig(kubeconfig)
    }

    async fn mirror_metrics(&self, link: &str) -> Vec<String> {
        match self {
            AnyCluster::Local(c) => c.mirror_metrics(link).await,
            AnyCluster::Kube(c) => c.mirror_metrics(link).await,
        }
    }
}

#[cfg(test)]
mod tests;
