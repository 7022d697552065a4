//! The clusters the commands read and write, behind one small trait so
//! that `link-gen`, `unlink`, `check`, `gateways`, `viz` and `plugin push`
//! are written once and behave the same against every kind: any
//! [`ClusterStore`] (a cluster's Kubernetes API through [`KubeStore`], or
//! an embedded store in tests). A cluster of a running `strait local up`
//! serves the same API; it differs only where [`Flavor`] says, and its
//! settings come from its `/strait/v1/info` endpoint ([`ClusterInfo`]).

use std::collections::BTreeMap;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use serde::{Deserialize, Serialize};
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, LINKERD_CONFIG, MULTICLUSTER_NAMESPACE, REMOTE_ACCESS_ACCOUNT,
    REMOTE_ACCESS_TOKEN, SERVICE_MIRROR_ADMIN_PORT, TRUST_ROOTS, TRUST_ROOTS_KEY, service_mirror,
};
use strait_store::{ClusterStore, Event, StoredObject, WatchParams};
use strait_store_kube::KubeStore;

use crate::error::{ClusterError, ListingProblem};
use crate::kubeconfig::{Credentials, UserKubeconfig};

/// What kind of cluster a command talks to, where their behaviour differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// A cluster of `strait local up`: the Link CRD is built in, a service
    /// mirror runs for every Link, pods are reached at their own addresses.
    Local,
    /// A Kubernetes cluster (or a store standing for one): the CRD must be
    /// installed, one `controller-NAME` Deployment runs per Link, the
    /// gateway is reached through its load balancer.
    Kubernetes,
}

/// A cluster's naming and identity settings, which link-gen writes into a
/// Link and check compares between clusters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The DNS domain, e.g. `cluster.local`.
    pub cluster_domain: String,
    /// The identity trust domain, e.g. `cluster.local`.
    pub trust_domain: String,
    /// The control plane's namespace, part of every workload identity.
    pub control_plane_namespace: String,
    /// The PEM trust anchors; empty when they cannot be read (a target's
    /// remote-access account may not be allowed to).
    pub trust_anchors_pem: String,
}

/// Where a local cluster's API serves its [`ClusterInfo`].
pub const INFO_PATH: &str = "/strait/v1/info";

/// A local cluster's identity and naming settings, as its API serves them
/// at [`INFO_PATH`]: what a Kubernetes cluster keeps in `linkerd-config`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The cluster's name.
    pub name: String,
    /// The PEM trust anchors its identity issuer chains to; clusters that
    /// link must share them.
    pub trust_anchors_pem: String,
    /// Its DNS domain, e.g. `cluster.local`.
    pub cluster_domain: String,
    /// Its identity trust domain, e.g. `cluster.local`.
    pub trust_domain: String,
    /// Its control plane's namespace, e.g. `linkerd`.
    pub control_plane_namespace: String,
}

impl From<ClusterInfo> for Facts {
    fn from(info: ClusterInfo) -> Facts {
        Facts {
            cluster_domain: info.cluster_domain,
            trust_domain: info.trust_domain,
            control_plane_namespace: info.control_plane_namespace,
            trust_anchors_pem: info.trust_anchors_pem,
        }
    }
}

/// One cluster as the commands see it.
#[allow(
    async_fn_in_trait,
    reason = "commands are one-shot and run on a single-threaded runtime: no caller needs Send futures"
)]
pub trait Cluster {
    /// What a Link's credentials reach from this cluster.
    type Remote: Cluster;

    /// The name users know the cluster by: the context name.
    fn name(&self) -> &str;

    /// Which kind of cluster this is.
    fn flavor(&self) -> Flavor;

    /// Every object of kind `K`, in `namespace` or in all.
    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, ClusterError>;

    /// One object, if it exists.
    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, ClusterError> {
        let name_of = |k: &K| k.meta().name.clone().unwrap_or_default();
        // Cluster-scoped kinds are named without a namespace.
        let namespace = (!namespace.is_empty()).then_some(namespace);
        Ok(self
            .list::<K>(namespace)
            .await?
            .into_iter()
            .find(|k| name_of(k) == name))
    }

    /// Creates or updates `object` by server-side apply as
    /// `field_manager`, as `kubectl apply --server-side` would.
    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<(), ClusterError>;

    /// The cluster's naming and identity settings.
    async fn facts(&self) -> Result<Facts, ClusterError>;

    /// The credentials link-gen writes for a source cluster to reach this
    /// one, at `server` when given.
    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, ClusterError>;

    /// The cluster a credentials kubeconfig reaches.
    async fn reach(&self, kubeconfig: &str) -> Result<Self::Remote, ClusterError>;

    /// The `/metrics` texts of the pods of Link `link`'s service mirror,
    /// where the cluster lets them be read; empty where it does not (a
    /// local cluster's mirrors run inside `strait local up`).
    async fn mirror_metrics(&self, link: &str) -> Vec<String> {
        let _ = link;
        Vec::new()
    }
}

/// GETs from a pod's port through the API server's pod proxy, as `kubectl
/// get --raw /api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH` does.
#[allow(
    async_fn_in_trait,
    reason = "used by Cluster implementations only, on the same single-threaded runtime"
)]
pub trait PodProxy {
    /// The body of a 2xx answer to `GET uri` (a path of the API server,
    /// e.g. [`INFO_PATH`]), or why there is none.
    async fn raw_get(&self, uri: &str) -> Result<String, ClusterError>;

    /// The body of a 2xx answer, or why there is none.
    async fn pod_get(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        path: &str,
    ) -> Result<String, ClusterError>;
}

impl PodProxy for KubeStore {
    async fn raw_get(&self, uri: &str) -> Result<String, ClusterError> {
        let failed = |reason: String| ClusterError::Request {
            uri: uri.to_string(),
            reason,
        };
        let request = http::Request::get(uri)
            .body(Vec::new())
            .map_err(|e| failed(e.to_string()))?;
        self.client()
            .request_text(request)
            .await
            .map_err(|e| failed(e.to_string()))
    }

    async fn pod_get(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        path: &str,
    ) -> Result<String, ClusterError> {
        let uri = format!("/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy{path}");
        let failed = |reason: String| ClusterError::PodProxy {
            uri: uri.clone(),
            reason,
        };
        let request = http::Request::get(&uri)
            .body(Vec::new())
            .map_err(|e| failed(e.to_string()))?;
        self.client()
            .request_text(request)
            .await
            .map_err(|e| failed(e.to_string()))
    }
}

/// An embedded store has objects, not running pods.
impl PodProxy for strait_store::MemoryStore {
    async fn raw_get(&self, uri: &str) -> Result<String, ClusterError> {
        Err(ClusterError::Request {
            uri: uri.to_string(),
            reason: "an embedded store serves no API".into(),
        })
    }

    async fn pod_get(
        &self,
        namespace: &str,
        pod: &str,
        _port: u16,
        _path: &str,
    ) -> Result<String, ClusterError> {
        Err(ClusterError::NoPods {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
        })
    }
}

/// How a store-backed cluster reaches the clusters its Links name.
pub trait Reach {
    /// The clusters reached.
    type Target: Cluster;
    /// The cluster `kubeconfig` points at.
    fn reach(&self, kubeconfig: &str) -> Result<Self::Target, ClusterError>;
}

/// A cluster behind a [`ClusterStore`]: a Kubernetes cluster through
/// [`KubeStore`], or an embedded store holding what one would.
#[derive(Clone, Debug)]
pub struct Store<S, R> {
    name: String,
    store: S,
    /// The API server's address in the user's kubeconfig, the default
    /// server of generated credentials.
    server: Option<String>,
    reach: R,
    /// For a cluster of `strait local up`: the credentials its context
    /// reaches it with, which a Link to it carries (there is no
    /// remote-access account to read them from).
    local: Option<Credentials>,
}

impl<S: ClusterStore, R: Reach> Store<S, R> {
    /// The cluster `store` reaches, known as `name`, whose API server users
    /// reach at `server`; `reach` resolves its Links' credentials.
    pub fn new(name: &str, store: S, server: Option<String>, reach: R) -> Self {
        Store {
            name: name.to_string(),
            store,
            server,
            reach,
            local: None,
        }
    }

    /// The same store as a cluster of `strait local up`, which its context
    /// reaches with `credentials` (see [`Flavor::Local`]).
    pub fn local(mut self, credentials: Credentials) -> Self {
        self.local = Some(credentials);
        self
    }

    /// The store behind the cluster.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<R: Reach> Store<KubeStore, R> {
    /// The cluster of context `context` of the user's kubeconfig: local
    /// when its cluster entry carries the
    /// [`LOCAL_EXTENSION`](crate::kubeconfig::LOCAL_EXTENSION), Kubernetes
    /// otherwise; `reach` resolves its Links' credentials. The store's
    /// error names the context.
    pub async fn for_context(
        kubeconfig: &UserKubeconfig,
        context: &str,
        reach: R,
    ) -> Result<Self, ClusterError> {
        let store = KubeStore::for_kubeconfig_context(kubeconfig.kubeconfig().clone(), context)?;
        let cluster = Store::new(context, store, kubeconfig.server_of(context), reach);
        Ok(match kubeconfig.local_cluster(context) {
            Some(_) => cluster.local(kubeconfig.credentials(context)?),
            None => cluster,
        })
    }
}

/// Values of Linkerd's `linkerd-config` that the multicluster commands use.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkerdValues {
    #[serde(default)]
    cluster_domain: Option<String>,
    #[serde(default)]
    identity_trust_domain: Option<String>,
    #[serde(default, rename = "identityTrustAnchorsPEM")]
    identity_trust_anchors_pem: Option<String>,
}

impl<S: ClusterStore + PodProxy, R: Reach> Cluster for Store<S, R> {
    type Remote = R::Target;

    fn name(&self) -> &str {
        &self.name
    }

    fn flavor(&self) -> Flavor {
        match self.local {
            Some(_) => Flavor::Local,
            None => Flavor::Kubernetes,
        }
    }

    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, ClusterError> {
        let params = WatchParams {
            namespace: namespace.map(str::to_string),
            ..WatchParams::all()
        };
        let mut watch = self.store.watch::<K>(params);
        let problem = match watch.next().await {
            Some(Ok(Event::Reset(all))) => return Ok(all),
            Some(Ok(_)) => ListingProblem::ChangeFirst,
            Some(Err(err)) => ListingProblem::Store(err),
            None => ListingProblem::NoAnswer,
        };
        Err(ClusterError::Listing {
            plural: K::plural(&()).into_owned(),
            problem,
        })
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, ClusterError> {
        Ok(self.store.get::<K>(namespace, name).await?)
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<(), ClusterError> {
        self.store.apply(object, field_manager).await?;
        Ok(())
    }

    async fn facts(&self) -> Result<Facts, ClusterError> {
        if self.local.is_some() {
            let text = self.store.raw_get(INFO_PATH).await?;
            let info: ClusterInfo =
                serde_json::from_str(&text).map_err(|e| ClusterError::Request {
                    uri: INFO_PATH.to_string(),
                    reason: format!("not the cluster's settings: {e}"),
                })?;
            return Ok(info.into());
        }
        let config: ConfigMap = self
            .get(CONTROL_PLANE_NAMESPACE, LINKERD_CONFIG)
            .await?
            .ok_or_else(|| ClusterError::NoControlPlane {
                cluster: self.name.clone(),
            })?;
        let values = config
            .data
            .as_ref()
            .and_then(|d| d.get("values"))
            .ok_or(ClusterError::NoValues)?;
        let values: LinkerdValues =
            serde_norway::from_str(values).map_err(|e| ClusterError::ValuesNotYaml {
                reason: e.to_string(),
            })?;
        let required = |value: Option<String>, key: &'static str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or(ClusterError::MissingValue { key })
        };
        // The trust roots ConfigMap, else Linkerd's copy in the values; a
        // remote-access account may read only `linkerd-config`, so a
        // refused read leaves the anchors unknown rather than failing.
        let anchors = match self
            .get::<ConfigMap>(CONTROL_PLANE_NAMESPACE, TRUST_ROOTS)
            .await
        {
            Ok(found) => found
                .and_then(|c| c.data)
                .and_then(|d| d.get(TRUST_ROOTS_KEY).cloned()),
            Err(_) => None,
        };
        Ok(Facts {
            cluster_domain: required(values.cluster_domain, "clusterDomain")?,
            trust_domain: required(values.identity_trust_domain, "identityTrustDomain")?,
            control_plane_namespace: CONTROL_PLANE_NAMESPACE.into(),
            trust_anchors_pem: anchors
                .or(values.identity_trust_anchors_pem)
                .unwrap_or_default(),
        })
    }

    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, ClusterError> {
        if let Some(own) = &self.local {
            let mut credentials = own.clone();
            if let Some(server) = server {
                credentials.server = server.to_string();
            }
            return Ok(credentials);
        }
        let secret: Secret = self
            .get(MULTICLUSTER_NAMESPACE, REMOTE_ACCESS_TOKEN)
            .await?
            .ok_or_else(|| ClusterError::NoExtension {
                cluster: self.name.clone(),
            })?;
        let data = secret.data.unwrap_or_default();
        let key = |key: &'static str| {
            data.get(key)
                .filter(|v| !v.0.is_empty())
                .map(|v| v.0.clone())
                .ok_or(ClusterError::TokenNotFilled { key })
        };
        let token = String::from_utf8(key("token")?).map_err(|_| ClusterError::TokenNotText)?;
        let certificate_authority = key("ca.crt")?;
        let server = server
            .map(str::to_string)
            .or_else(|| self.server.clone())
            .ok_or_else(|| ClusterError::NoServer {
                context: self.name.clone(),
            })?;
        Ok(Credentials {
            cluster: self.name.clone(),
            server,
            user: REMOTE_ACCESS_ACCOUNT.into(),
            certificate_authority: Some(certificate_authority),
            token: Some(token),
            local_cluster: None,
        })
    }

    async fn reach(&self, kubeconfig: &str) -> Result<Self::Remote, ClusterError> {
        self.reach.reach(kubeconfig)
    }

    async fn mirror_metrics(&self, link: &str) -> Vec<String> {
        // A local cluster's mirrors run inside `strait local up`, not in pods.
        if self.local.is_some() {
            return Vec::new();
        }
        let name = service_mirror(link);
        let Ok(Some(deployment)) = self.get::<Deployment>(MULTICLUSTER_NAMESPACE, &name).await
        else {
            return Vec::new();
        };
        let selector = deployment.spec.selector.match_labels.unwrap_or_default();
        if selector.is_empty() {
            return Vec::new();
        }
        let Ok(pods) = self.list::<Pod>(Some(MULTICLUSTER_NAMESPACE)).await else {
            return Vec::new();
        };
        let mut texts = Vec::new();
        for pod in pods {
            let labels = labels_of(&pod.metadata);
            let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            if !running || !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                continue;
            }
            let pod_name = pod.metadata.name.unwrap_or_default();
            match self
                .store
                .pod_get(
                    MULTICLUSTER_NAMESPACE,
                    &pod_name,
                    SERVICE_MIRROR_ADMIN_PORT,
                    "/metrics",
                )
                .await
            {
                Ok(text) => texts.push(text),
                Err(err) => {
                    tracing::debug!(pod = %pod_name, "service mirror metrics unread: {err}")
                }
            }
        }
        texts
    }
}

/// The labels of an object, empty when it has none.
pub fn labels_of(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

/// The IPs of the pods `service` selects, in its namespace: how a local
/// gateway is reached, since local pods are addressed directly.
pub async fn selected_pod_ips<C: Cluster>(
    cluster: &C,
    service: &Service,
) -> Result<Vec<String>, ClusterError> {
    let namespace = service.metadata.namespace.clone().unwrap_or_default();
    let selector = service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default();
    if selector.is_empty() {
        return Ok(Vec::new());
    }
    let pods: Vec<Pod> = cluster.list(Some(&namespace)).await?;
    Ok(pods
        .iter()
        .filter(|pod| {
            let labels = labels_of(&pod.metadata);
            selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
        .filter_map(|pod| pod.status.as_ref()?.pod_ip.clone())
        .filter(|ip| !ip.is_empty())
        .collect())
}
