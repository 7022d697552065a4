//! One embedded cluster: its store loaded from its directory, its control
//! plane, its service mirrors, its workloads, the history of its proxies'
//! metrics, and the saving of its state.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use strait_control_plane::{ControlPlane, RunningControlPlane};
use strait_destination::ClusterConfig;
use strait_identity::{
    Certifier, EmbeddedTokens, IdentityDomain, Issuer, ServiceAccountRef, SigningCa,
};
use strait_local_workloads::{ClusterRuntime, IpPool, PodView, Workloads};
use strait_multicluster::ClusterInfo;
use strait_viz::wire::{PodScrapes, Scrape};
// The mesh's names are Linkerd's defaults, so the guide's identity strings
// (`slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local`)
// hold in every local cluster.
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN, LINK_NAMESPACE,
};
use strait_mirror::MirrorMetrics;
use strait_plugin_config::{PLUGINS_CONFIG_MAP, PluginSinks};
use strait_plugin_distribution::PluginOffer;
use strait_plugin_host::{ExportPlugin, PluginBytes, PluginHost};
use strait_policy::IndexConfig;
use strait_runtime::plugins::{
    PluginsConfigMap, export_slot, load_export_plugins, offer_authz_plugins,
};
use strait_store::MemoryStore;
use tokio::task::JoinHandle;

use crate::controllers::ControllerStore;
use crate::error::LocalError;
use crate::links;
use crate::persist;
use crate::scrape::{History, SCRAPE_INTERVAL, Sampled, scrape};
use strait_runtime::credentials::store_from_credentials;

/// How often the state is checked for changes to save.
const SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// A cluster's store and directory, before it runs: loading every
/// cluster's store first lets each control plane reach the others.
pub(crate) struct Prepared {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) store: MemoryStore,
    /// How strait's controllers reach the cluster: the store itself,
    /// unless `up` was asked to route them through the cluster's API.
    pub(crate) controllers: ControllerStore,
}

impl Prepared {
    /// Loads `dir` into a fresh store whose ClusterIPs come from the
    /// cluster's own range (the `index`-th /16 above 10.96.0.0).
    pub(crate) fn load(name: &str, dir: PathBuf, index: usize) -> Result<Prepared, LocalError> {
        let octet = u8::try_from(96 + index).map_err(|_| LocalError::TooManyClusters {
            cluster: name.to_string(),
        })?;
        let store = MemoryStore::with_service_range(Ipv4Addr::new(10, octet, 0, 0), 16);
        let loaded = persist::load(&store, &dir)?;
        for error in &loaded.errors {
            tracing::warn!(cluster = name, "{error}");
        }
        tracing::info!(
            cluster = name,
            from_state = loaded.from_state,
            from_files = loaded.from_files,
            "loaded"
        );
        Ok(Prepared {
            name: name.to_string(),
            dir,
            store: store.clone(),
            controllers: ControllerStore::Memory(store),
        })
    }
}

/// A running embedded cluster.
pub struct LocalCluster {
    name: String,
    store: MemoryStore,
    trust_anchors_pem: String,
    tokens: EmbeddedTokens,
    /// Where the control plane serves, across restarts.
    plane_addr: SocketAddr,
    /// The control plane; `None` only while it restarts.
    plane: tokio::sync::Mutex<Option<RunningControlPlane>>,
    /// How to build the control plane again.
    recipe: PlaneRecipe,
    /// How to start the service mirrors again.
    mirrors: MirrorRecipe,
    /// The task running every Link's service mirror.
    mirror_task: parking_lot::Mutex<JoinHandle<()>>,
    workloads: Workloads,
    history: History,
    tasks: Vec<JoinHandle<()>>,
    /// The directory the state is saved in.
    dir: PathBuf,
    /// Held while the state is saved, so the last save wins.
    saving: Arc<parking_lot::Mutex<()>>,
}

/// What every cluster shares: the root all issuers chain to, the flat
/// network, the plugins, and each other.
pub(crate) struct Shared {
    pub(crate) root: SigningCa,
    pub(crate) ips: IpPool,
    /// Runs every cluster's plugins.
    pub(crate) host: PluginHost,
    /// The export plugin each cluster's mirrors start with.
    pub(crate) export_plugin: PluginBytes,
    pub(crate) mirror_metrics: MirrorMetrics,
}

impl LocalCluster {
    /// Starts the cluster: its control plane (identity with its own issuer
    /// under the shared root, policy, destination), a service mirror per
    /// Link, its workloads, the metrics scraper and the state saver.
    pub(crate) async fn start(
        prepared: Prepared,
        shared: &Shared,
    ) -> Result<LocalCluster, LocalError> {
        let Prepared {
            name,
            dir,
            store,
            controllers,
        } = prepared;
        let issuer = Issuer::generate(
            &shared.root,
            &format!("identity.{CONTROL_PLANE_NAMESPACE}.{name}"),
            Duration::from_secs(365 * 86_400),
        )
        .map_err(|e| LocalError::cluster(&name, "issuer", e))?;
        let domain = IdentityDomain::new(CONTROL_PLANE_NAMESPACE, DEFAULT_TRUST_DOMAIN)
            .map_err(|e| LocalError::cluster(&name, "identity domain", e))?;
        let tokens = EmbeddedTokens::new();
        // This cluster's plugins: the built-in ones until its plugins
        // ConfigMap (`linkerd/strait-plugins`) names others.
        let offer = PluginOffer::new();
        let export = export_slot(&shared.host, &shared.export_plugin)
            .map_err(|e| LocalError::cluster(&name, "export plugin", e))?;
        let recipe = PlaneRecipe {
            cluster: name.clone(),
            store: controllers.clone(),
            certifier: Arc::new(Certifier::new(issuer, domain)),
            tokens: tokens.clone(),
            offer: offer.clone(),
        };
        let plane = recipe
            .serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await?;
        let trust_anchors_pem = shared.root.as_trust_anchor().to_pem();
        let workloads = Workloads::start(ClusterRuntime {
            name: name.clone(),
            store: store.clone(),
            control_plane: plane.local_addr(),
            trust_anchors_pem: trust_anchors_pem.clone(),
            tokens: tokens.clone(),
            ips: shared.ips.clone(),
            control_plane_namespace: CONTROL_PLANE_NAMESPACE.to_string(),
            trust_domain: DEFAULT_TRUST_DOMAIN.to_string(),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
        })
        .await;
        let mirrors = MirrorRecipe {
            store: controllers.clone(),
            export: export.clone(),
            metrics: shared.mirror_metrics.clone(),
        };
        let mirror_task = mirrors.spawn();
        let mut tasks = Vec::new();
        // One follower takes both kinds: this cluster runs the policy
        // service and the service mirrors alike.
        let plugins = PluginsConfigMap::new(CONTROL_PLANE_NAMESPACE, PLUGINS_CONFIG_MAP);
        let sinks = PluginSinks {
            authz: Some(offer_authz_plugins(&offer)),
            export: Some(load_export_plugins(&export)),
        };
        tasks.extend(plugins.follow(controllers.clone(), &shared.host, sinks));
        let saving = Arc::new(parking_lot::Mutex::new(()));
        tasks.push(tokio::spawn(save_on_change(
            name.clone(),
            store.clone(),
            dir.clone(),
            saving.clone(),
        )));
        Ok(LocalCluster {
            name,
            store,
            trust_anchors_pem,
            tokens,
            plane_addr: plane.local_addr(),
            plane: tokio::sync::Mutex::new(Some(plane)),
            recipe,
            mirrors,
            mirror_task: parking_lot::Mutex::new(mirror_task),
            workloads,
            history: History::default(),
            tasks,
            dir,
            saving,
        })
    }

    /// The cluster's name (its directory's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster's store.
    pub fn store(&self) -> &MemoryStore {
        &self.store
    }

    /// Saves the state now: on shutdown, so a change made since the last
    /// periodic save is not lost.
    pub(crate) fn save_state(&self) {
        let _saving = self.saving.lock();
        if let Err(error) = persist::save(&self.dir, &persist::state_text(&self.store)) {
            tracing::warn!(cluster = %self.name, %error, "state not saved");
        }
    }

    /// Reads the logs of the cluster's pods.
    pub(crate) fn log_reader(&self) -> strait_local_workloads::LogReader {
        self.workloads.log_reader()
    }

    /// Every Pod the kubelet knows.
    pub fn pods(&self) -> Vec<PodView> {
        self.workloads.pods()
    }

    /// Scrapes every meshed pod's proxy once, into the history.
    pub(crate) async fn scrape_once(&self) {
        let pods = self.workloads.pods();
        let keys: Vec<String> = pods.iter().map(pod_key).collect();
        for pod in pods {
            let Some(admin) = pod.proxy_admin else {
                continue;
            };
            if let Some(text) = scrape(admin).await {
                self.history.push(
                    &pod_key(&pod),
                    Sampled {
                        at: SystemTime::now(),
                        text: text.into(),
                    },
                );
            }
        }
        self.history.retain(&keys);
    }

    /// A new token proving service account `name` of `namespace` to this
    /// cluster's identity service, as Kubernetes hands one to every pod
    /// running as that account: what a workload started outside the
    /// cluster's own pods (a test, a drill acting as an attacker that owns
    /// such a pod) needs to be certified as a proxy is. It proves nothing
    /// else: the identity service issues only that account's identity.
    pub fn service_account_token(&self, namespace: &str, name: &str) -> Vec<u8> {
        use std::hash::{BuildHasher, Hasher};
        // Two randomly keyed hashes: std's own randomness, enough for a
        // token nobody can guess on the same machine.
        let random = || {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default(),
            );
            hasher.finish()
        };
        let token = format!(
            "strait-local.{namespace}.{name}.{:016x}{:016x}",
            random(),
            random()
        )
        .into_bytes();
        self.tokens
            .register(token.clone(), ServiceAccountRef::new(namespace, name));
        token
    }

    /// The control plane's address (identity, destination and policy).
    pub fn control_plane_addr(&self) -> SocketAddr {
        self.plane_addr
    }

    /// Restarts the control plane (identity, destination, policy) as a
    /// rollout restart of its Deployments does: the running one stops and
    /// every proxy's stream to it is cut, nothing answers for `down_for`,
    /// then a fresh one, with empty indexes rebuilt from the store, serves
    /// on the same address. Proxies must ride through on what they know.
    pub async fn restart_control_plane(&self, down_for: Duration) -> Result<(), LocalError> {
        let mut plane = self.plane.lock().await;
        if let Some(running) = plane.take()
            && let Err(error) = running.shutdown().await
        {
            tracing::warn!(cluster = %self.name, %error, "control plane stopped with an error");
        }
        tracing::info!(cluster = %self.name, "control plane stopped");
        tokio::time::sleep(down_for).await;
        // The old listener's port may take a moment to be free again.
        let mut attempts = 0;
        let restarted = loop {
            match self.recipe.serve(self.plane_addr).await {
                Ok(restarted) => break restarted,
                Err(error) if attempts < 50 => {
                    attempts += 1;
                    tracing::debug!(cluster = %self.name, %error, "control plane not bound yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error),
            }
        };
        *plane = Some(restarted);
        tracing::info!(cluster = %self.name, "control plane restarted");
        Ok(())
    }

    /// Restarts every service mirror of the cluster as a restart of their
    /// controllers' pods does: they stop, nothing mirrors for `down_for`,
    /// then they start again from the Links and resync; the mirrors they
    /// wrote stay in the store meanwhile.
    pub async fn restart_service_mirrors(&self, down_for: Duration) {
        // A finished placeholder holds the slot until the new mirrors start.
        let old = std::mem::replace(&mut *self.mirror_task.lock(), tokio::spawn(async {}));
        old.abort();
        let _ = old.await;
        tracing::info!(cluster = %self.name, "service mirrors stopped");
        tokio::time::sleep(down_for).await;
        let task = self.mirrors.spawn();
        *self.mirror_task.lock() = task;
        tracing::info!(cluster = %self.name, "service mirrors restarted");
    }
}

impl Drop for LocalCluster {
    /// The workloads and the control plane stop when dropped; the tasks
    /// started here are stopped with them.
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.mirror_task.lock().abort();
    }
}

/// What the control plane of a cluster is built from, kept to build it
/// again on a restart.
struct PlaneRecipe {
    cluster: String,
    store: ControllerStore,
    certifier: Arc<Certifier>,
    tokens: EmbeddedTokens,
    offer: PluginOffer,
}

/// The policy index's settings: Linkerd's defaults, except that no
/// loopback address is admitted around the policy. Every pod here shares
/// the machine's loopback, so a client from `127.0.0.1` is any process of
/// the machine, not the pod's own containers (which connect from the
/// pod's address).
pub(crate) fn index_config() -> IndexConfig {
    IndexConfig {
        loopback_networks: Vec::new(),
        ..IndexConfig::default()
    }
}

impl PlaneRecipe {
    /// Identity with the cluster's issuer, policy with the cluster's
    /// plugin offer, destination with the linked clusters, serving on
    /// `addr`.
    async fn serve(&self, addr: SocketAddr) -> Result<RunningControlPlane, LocalError> {
        let name = &self.cluster;
        ControlPlane::new()
            .with_identity(self.certifier.clone(), self.tokens.clone())
            .with_policy(self.store.clone(), index_config(), &self.offer)
            .with_destination(
                self.store.clone(),
                name,
                ClusterConfig::default(),
                LINK_NAMESPACE,
                |secret| std::future::ready(store_from_credentials(&secret)),
            )
            .serve(addr)
            .await
            .map_err(|e| LocalError::cluster(name, "control plane", e))
    }
}

/// What the service mirrors of a cluster run with, kept to start them
/// again on a restart.
struct MirrorRecipe {
    store: ControllerStore,
    export: Arc<ExportPlugin>,
    metrics: MirrorMetrics,
}

impl MirrorRecipe {
    fn spawn(&self) -> JoinHandle<()> {
        tokio::spawn(links::mirror_every_link(
            self.store.clone(),
            self.export.clone(),
            self.metrics.clone(),
        ))
    }
}

fn pod_key(pod: &PodView) -> String {
    format!("{}/{}", pod.namespace, pod.name)
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// What the cluster's API serves beside Kubernetes' own endpoints.
impl LocalCluster {
    /// For each pod, the oldest and newest metrics scrape of its proxy
    /// inside the last `window`, from which `viz` computes rates.
    pub fn scrapes(&self, window: Duration) -> Vec<PodScrapes> {
        self.workloads
            .pods()
            .into_iter()
            .map(|pod| {
                let (first, last) = self.history.window(&pod_key(&pod), window);
                let wire = |s: Sampled| Scrape {
                    at_unix_ms: unix_ms(s.at),
                    text: s.text.to_string(),
                };
                PodScrapes {
                    namespace: pod.namespace,
                    pod: pod.name,
                    deployment: pod.deployment,
                    replicaset: pod.replicaset,
                    statefulset: pod.statefulset,
                    meshed: pod.meshed,
                    ready: pod.ready,
                    first: first.map(wire),
                    last: last.map(wire),
                }
            })
            .collect()
    }

    /// The cluster's identity settings, which `link-gen` and `check` need
    /// to write and verify credentials.
    pub fn info(&self) -> ClusterInfo {
        ClusterInfo {
            name: self.name.clone(),
            trust_anchors_pem: self.trust_anchors_pem.clone(),
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
            trust_domain: DEFAULT_TRUST_DOMAIN.to_string(),
            control_plane_namespace: CONTROL_PLANE_NAMESPACE.to_string(),
        }
    }
}

/// Saves the cluster's state whenever it changes, so a restart finds
/// everything applied, labelled or deleted through `strait`.
async fn save_on_change(
    name: String,
    store: MemoryStore,
    dir: PathBuf,
    saving: Arc<parking_lot::Mutex<()>>,
) {
    let mut saved = String::new();
    let mut revision = None;
    loop {
        tokio::time::sleep(SAVE_INTERVAL).await;
        let now = store.revision();
        if revision == Some(now) {
            continue;
        }
        revision = Some(now);
        // Writing the whole state out is slow when it holds a large plugin
        // (megabytes of YAML): done off the runtime's threads, so the
        // cluster's proxies, controllers and workloads are never held up.
        let (store, dir, saving) = (store.clone(), dir.clone(), saving.clone());
        let previous = std::mem::take(&mut saved);
        let written = tokio::task::spawn_blocking(move || {
            // Taken before the state is read: a save at shutdown, after
            // this one, writes a state at least as new.
            let _saving = saving.lock();
            let text = persist::state_text(&store);
            if text == previous {
                return (previous, Ok(()));
            }
            match persist::save(&dir, &text) {
                Ok(()) => (text, Ok(())),
                Err(error) => (previous, Err(error)),
            }
        })
        .await;
        match written {
            Ok((text, result)) => {
                saved = text;
                if let Err(error) = result {
                    tracing::warn!(cluster = %name, %error, "state not saved");
                }
            }
            Err(error) => tracing::warn!(cluster = %name, %error, "saving the state failed"),
        }
    }
}

/// Scrapes every cluster's proxies on [`SCRAPE_INTERVAL`].
pub(crate) async fn scrape_forever(clusters: Vec<Arc<LocalCluster>>) {
    let mut tick = tokio::time::interval(SCRAPE_INTERVAL);
    loop {
        tick.tick().await;
        for cluster in &clusters {
            cluster.scrape_once().await;
        }
    }
}

#[cfg(test)]
mod tests;
