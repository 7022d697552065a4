//! The clusters the multicluster commands read: a cluster of a running
//! `strait local up` (through its local API) or any [`ClusterStore`] (a
//! Kubernetes cluster through [`KubeStore`], or an embedded store), behind
//! one small trait so that `link-gen`, `unlink`, `check` and `gateways` are
//! written once and behave the same against both.

use std::collections::BTreeMap;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use strait_local_api::{LocalClient, Registry};
use strait_store::{ClusterStore, Event, StoredObject, WatchParams};
use strait_store_kube::KubeStore;

use super::kubeconfig::{self, Credentials};
use super::link_gen::LOCAL_SCHEME;

/// The control plane's namespace, where its ConfigMaps live.
pub const CONTROL_PLANE_NAMESPACE: &str = "linkerd";
/// The ConfigMap holding the control plane's settings (Linkerd's name).
pub const LINKERD_CONFIG: &str = "linkerd-config";
/// The ConfigMap holding the trust anchors.
pub const TRUST_ROOTS: &str = "linkerd-identity-trust-roots";
/// The trust anchors' key in [`TRUST_ROOTS`].
pub const TRUST_ROOTS_KEY: &str = "ca-bundle.crt";
/// Where the multicluster extension runs its gateway, controllers and
/// remote-access account.
pub const MULTICLUSTER_NAMESPACE: &str = "linkerd-multicluster";
/// The Secret holding the token of the account source clusters use.
pub const REMOTE_ACCESS_TOKEN: &str = "linkerd-service-mirror-remote-access-default-token";
/// The account [`REMOTE_ACCESS_TOKEN`] belongs to; the user in generated kubeconfigs.
pub const REMOTE_ACCESS_ACCOUNT: &str = "linkerd-service-mirror-remote-access-default";

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

/// One cluster as the multicluster commands see it.
pub trait Cluster {
    /// What a Link's credentials reach from this cluster.
    type Remote: Cluster;

    /// The name users know the cluster by: the context name.
    fn name(&self) -> &str;

    /// Which kind of cluster this is.
    fn flavor(&self) -> Flavor;

    /// Every object of kind `K`, in `namespace` or in all.
    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, String>;

    /// One object, if it exists.
    async fn get<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<Option<K>, String> {
        let name_of = |k: &K| k.meta().name.clone().unwrap_or_default();
        // Cluster-scoped kinds are named without a namespace.
        let namespace = (!namespace.is_empty()).then_some(namespace);
        Ok(self
            .list::<K>(namespace)
            .await?
            .into_iter()
            .find(|k| name_of(k) == name))
    }

    /// The cluster's naming and identity settings.
    async fn facts(&self) -> Result<Facts, String>;

    /// The credentials link-gen writes for a source cluster to reach this
    /// one, at `server` when given.
    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, String>;

    /// The cluster a credentials kubeconfig reaches.
    async fn reach(&self, kubeconfig: &str) -> Result<Self::Remote, String>;

    /// The `/metrics` texts of the pods of Link `link`'s service mirror,
    /// where the cluster lets them be read; empty where it does not (a
    /// local cluster's mirrors run inside `strait local up`).
    async fn mirror_metrics(&self, link: &str) -> Vec<String> {
        let _ = link;
        Vec::new()
    }
}

/// The service mirror's admin port, where it serves `/metrics`.
pub const MIRROR_ADMIN_PORT: u16 = 9999;

/// GETs from a pod's port through the API server's pod proxy, as `kubectl
/// get --raw /api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH` does.
pub trait PodProxy {
    /// The body of a 2xx answer, or why there is none.
    async fn pod_get(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        path: &str,
    ) -> Result<String, String>;
}

impl PodProxy for KubeStore {
    async fn pod_get(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        path: &str,
    ) -> Result<String, String> {
        let uri = format!("/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy{path}");
        let request = http::Request::get(&uri)
            .body(Vec::new())
            .map_err(|e| format!("{uri}: {e}"))?;
        self.client()
            .request_text(request)
            .await
            .map_err(|e| format!("{uri}: {e}"))
    }
}

/// An embedded store has objects, not running pods.
impl PodProxy for strait_store::MemoryStore {
    async fn pod_get(
        &self,
        namespace: &str,
        pod: &str,
        _port: u16,
        _path: &str,
    ) -> Result<String, String> {
        Err(format!(
            "pod {namespace}/{pod} is not running: an embedded store runs no pods"
        ))
    }
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
) -> Result<Vec<K>, String> {
    values
        .into_iter()
        .map(|value| {
            let id = format!(
                "{kind} {}/{}",
                value["metadata"]["namespace"].as_str().unwrap_or(""),
                value["metadata"]["name"].as_str().unwrap_or("")
            );
            serde_json::from_value(value).map_err(|e| format!("{id} cannot be read: {e}"))
        })
        .collect()
}

impl Cluster for Local {
    type Remote = Remote;

    fn name(&self) -> &str {
        self.client.context()
    }

    fn flavor(&self) -> Flavor {
        Flavor::Local
    }

    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, String> {
        let kind = K::kind(&());
        let group = K::group(&());
        let group = (!group.is_empty()).then_some(group.as_ref());
        let values = self
            .client
            .objects(&kind, group, namespace)
            .await
            .map_err(|e| e.to_string())?;
        typed(values, &kind)
    }

    async fn facts(&self) -> Result<Facts, String> {
        let info = self.client.info().await.map_err(|e| e.to_string())?;
        Ok(Facts {
            cluster_domain: info.cluster_domain,
            trust_domain: info.trust_domain,
            control_plane_namespace: info.control_plane_namespace,
            trust_anchors_pem: info.trust_anchors_pem,
        })
    }

    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, String> {
        Ok(Credentials {
            cluster: self.name().to_string(),
            server: server.map_or_else(|| format!("{LOCAL_SCHEME}{}", self.name()), str::to_string),
            user: format!("{}-mirror", self.name()),
            certificate_authority: None,
            token: None,
        })
    }

    async fn reach(&self, kubeconfig: &str) -> Result<Remote, String> {
        Remote::from_kubeconfig(kubeconfig)
    }
}

/// How a store-backed cluster reaches the clusters its Links name.
pub trait Reach {
    /// The clusters reached.
    type Target: Cluster;
    /// The cluster `kubeconfig` points at.
    fn reach(&self, kubeconfig: &str) -> Result<Self::Target, String>;
}

/// Reaches clusters as a real source cluster does: `strait-local://` servers
/// through the local registry, anything else through kube's client.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealReach;

impl Reach for RealReach {
    type Target = Remote;
    fn reach(&self, kubeconfig: &str) -> Result<Remote, String> {
        Remote::from_kubeconfig(kubeconfig)
    }
}

/// A cluster behind a [`ClusterStore`]: a Kubernetes cluster through
/// [`KubeStore`], or an embedded store holding what one would.
#[derive(Clone, Debug)]
pub struct Store<S, R = RealReach> {
    name: String,
    store: S,
    /// The API server's address in the user's kubeconfig, the default
    /// server of generated credentials.
    server: Option<String>,
    reach: R,
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
        }
    }
}

impl Store<KubeStore> {
    /// The Kubernetes cluster of kubeconfig context `context`.
    pub async fn for_context(context: &str) -> Result<Self, String> {
        // The store's error names the context already.
        let store = KubeStore::for_context(context)
            .await
            .map_err(|e| e.to_string())?;
        let server = kubeconfig::server_of_context(context);
        Ok(Store::new(context, store, server, RealReach))
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
        Flavor::Kubernetes
    }

    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, String> {
        let params = WatchParams {
            namespace: namespace.map(str::to_string),
            ..WatchParams::all()
        };
        let mut watch = self.store.watch::<K>(params);
        match watch.next().await {
            Some(Ok(Event::Reset(all))) => Ok(all),
            Some(Ok(_)) => Err(format!(
                "listing {}: the cluster answered with a change before the listing",
                K::plural(&())
            )),
            Some(Err(err)) => Err(format!("listing {}: {err}", K::plural(&()))),
            None => Err(format!("listing {}: no answer", K::plural(&()))),
        }
    }

    async fn get<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<Option<K>, String> {
        self.store
            .get::<K>(namespace, name)
            .await
            .map_err(|e| e.to_string())
    }

    async fn facts(&self) -> Result<Facts, String> {
        let config: ConfigMap = self
            .get(CONTROL_PLANE_NAMESPACE, LINKERD_CONFIG)
            .await?
            .ok_or_else(|| {
                format!(
                    "cluster {}: ConfigMap {LINKERD_CONFIG} in {CONTROL_PLANE_NAMESPACE} not found; install the control plane with `strait install`",
                    self.name
                )
            })?;
        let where_ = format!("ConfigMap {LINKERD_CONFIG} in {CONTROL_PLANE_NAMESPACE}");
        let values = config
            .data
            .as_ref()
            .and_then(|d| d.get("values"))
            .ok_or_else(|| format!("{where_} has no `values` key"))?;
        let values: LinkerdValues = serde_norway::from_str(values)
            .map_err(|e| format!("{where_}: `values` is not YAML: {e}"))?;
        let required = |value: Option<String>, key: &str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{where_}: `values` has no {key}"))
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

    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, String> {
        let secret: Secret = self
            .get(MULTICLUSTER_NAMESPACE, REMOTE_ACCESS_TOKEN)
            .await?
            .ok_or_else(|| {
                format!(
                    "cluster {}: Secret {REMOTE_ACCESS_TOKEN} in {MULTICLUSTER_NAMESPACE} not found; install the multicluster extension with `strait multicluster install`",
                    self.name
                )
            })?;
        let where_ = format!("Secret {REMOTE_ACCESS_TOKEN} in {MULTICLUSTER_NAMESPACE}");
        let data = secret.data.unwrap_or_default();
        let key = |key: &str| {
            data.get(key)
                .filter(|v| !v.0.is_empty())
                .map(|v| v.0.clone())
                .ok_or_else(|| {
                    format!("{where_} has no {key:?} yet; Kubernetes fills it in shortly after `strait multicluster install`")
                })
        };
        let token = String::from_utf8(key("token")?)
            .map_err(|_| format!("{where_}: the token is not text"))?;
        let certificate_authority = key("ca.crt")?;
        let server = match server.map(str::to_string).or_else(|| self.server.clone()) {
            Some(server) => server,
            None => {
                return Err(format!(
                    "the API server of context {:?} is not in the kubeconfig; pass --api-server-address",
                    self.name
                ));
            }
        };
        Ok(Credentials {
            cluster: self.name.clone(),
            server,
            user: REMOTE_ACCESS_ACCOUNT.into(),
            certificate_authority: Some(certificate_authority),
            token: Some(token),
        })
    }

    async fn reach(&self, kubeconfig: &str) -> Result<Self::Remote, String> {
        self.reach.reach(kubeconfig)
    }

    async fn mirror_metrics(&self, link: &str) -> Vec<String> {
        let name = super::unlink::controller_name(link);
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
                    MIRROR_ADMIN_PORT,
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

/// A cluster a Link's credentials reach.
#[derive(Clone, Debug)]
pub enum Remote {
    /// A cluster of a running `strait local up`.
    Local(Box<Local>),
    /// A Kubernetes cluster.
    Kube(Box<Store<KubeStore>>),
}

impl Remote {
    /// The cluster a credentials kubeconfig reaches: a `strait-local://`
    /// server names a running local cluster; anything else is a Kubernetes
    /// API server.
    pub fn from_kubeconfig(text: &str) -> Result<Self, String> {
        let (context, server) = kubeconfig::current_server(text)?;
        if let Some(cluster) = server.strip_prefix(LOCAL_SCHEME) {
            let cluster = cluster.trim_end_matches('/');
            let registry = Registry::from_env().map_err(|e| e.to_string())?;
            let found = registry.lookup(cluster).map_err(|e| e.to_string())?.ok_or_else(|| {
                format!(
                    "the kubeconfig names {server}, but no running `strait local up` serves cluster {cluster:?} (see {})",
                    registry.path().display()
                )
            })?;
            let client = LocalClient::new(cluster, &found.api).map_err(|e| e.to_string())?;
            return Ok(Remote::Local(Box::new(Local::new(client))));
        }
        let store = KubeStore::from_kubeconfig_yaml(text).map_err(|e| e.to_string())?;
        Ok(Remote::Kube(Box::new(Store::new(
            &context,
            store,
            Some(server),
            RealReach,
        ))))
    }
}

impl Cluster for Remote {
    type Remote = Remote;

    fn name(&self) -> &str {
        match self {
            Remote::Local(c) => c.name(),
            Remote::Kube(c) => c.name(),
        }
    }

    fn flavor(&self) -> Flavor {
        match self {
            Remote::Local(c) => c.flavor(),
            Remote::Kube(c) => c.flavor(),
        }
    }

    async fn list<K: StoredObject>(&self, namespace: Option<&str>) -> Result<Vec<K>, String> {
        match self {
            Remote::Local(c) => c.list(namespace).await,
            Remote::Kube(c) => c.list(namespace).await,
        }
    }

    async fn get<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<Option<K>, String> {
        match self {
            Remote::Local(c) => c.get(namespace, name).await,
            Remote::Kube(c) => c.get(namespace, name).await,
        }
    }

    async fn facts(&self) -> Result<Facts, String> {
        match self {
            Remote::Local(c) => c.facts().await,
            Remote::Kube(c) => c.facts().await,
        }
    }

    async fn credentials(&self, server: Option<&str>) -> Result<Credentials, String> {
        match self {
            Remote::Local(c) => c.credentials(server).await,
            Remote::Kube(c) => c.credentials(server).await,
        }
    }

    async fn reach(&self, kubeconfig: &str) -> Result<Remote, String> {
        Remote::from_kubeconfig(kubeconfig)
    }

    async fn mirror_metrics(&self, link: &str) -> Vec<String> {
        match self {
            Remote::Local(c) => c.mirror_metrics(link).await,
            Remote::Kube(c) => c.mirror_metrics(link).await,
        }
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
) -> Result<Vec<String>, String> {
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
