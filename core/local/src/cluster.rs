//! One embedded cluster: its store loaded from its directory, its control
//! plane, its service mirrors, its workloads, the history of its proxies'
//! metrics, and the saving of its state.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime};

use strait_control_plane::{ControlPlane, RunningControlPlane, offer_authz_plugins};
use strait_destination::ClusterConfig;
use strait_identity::{Certifier, EmbeddedTokens, IdentityDomain, Issuer, SigningCa};
use strait_local_api::{ClusterBackend, ClusterInfo, PodScrapes, Scrape};
use strait_local_workloads::{ClusterRuntime, IpPool, PodView, Workloads};
use strait_mirror::MirrorMetrics;
use strait_plugin_config::{PluginSink, PluginSinks, follow_plugin_config_map};
use strait_plugin_host::{ExportPlugin, PLUGINS_CONFIG_MAP, PluginBytes, PluginHost};
use strait_policy::IndexConfig;
use strait_policy_server::PluginOffer;
use strait_store::MemoryStore;
use tokio::task::JoinHandle;

use crate::links::{self, Clusters};
use crate::persist;
use crate::scrape::{History, SCRAPE_INTERVAL, Sampled, scrape};

/// How often the state is checked for changes to save.
const SAVE_INTERVAL: Duration = Duration::from_secs(1);
/// The mesh's names: Linkerd's defaults, so the guide's identity strings
/// (`slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local`)
/// hold in every local cluster.
const CONTROL_PLANE_NAMESPACE: &str = "linkerd";
const TRUST_DOMAIN: &str = "cluster.local";
const CLUSTER_DOMAIN: &str = "cluster.local";

/// A cluster's store and directory, before it runs: loading every
/// cluster's store first lets each control plane reach the others.
pub(crate) struct Prepared {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) store: MemoryStore,
}

impl Prepared {
    /// Loads `dir` into a fresh store whose ClusterIPs come from the
    /// cluster's own range (the `index`-th /16 above 10.96.0.0).
    pub(crate) fn load(name: &str, dir: PathBuf, index: usize) -> Result<Prepared, String> {
        let octet = u8::try_from(96 + index).map_err(|_| "too many clusters".to_string())?;
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
            store,
        })
    }
}

/// A running embedded cluster.
pub struct LocalCluster {
    name: String,
    store: MemoryStore,
    trust_anchors_pem: String,
    plane: RunningControlPlane,
    workloads: Workloads,
    history: History,
    tasks: Vec<JoinHandle<()>>,
    /// The directory the state is saved in.
    dir: PathBuf,
    /// Held while the state is saved, so the last save wins.
    saving: Arc<std::sync::Mutex<()>>,
}

/// What every cluster shares: the root all issuers chain to, the flat
/// network, the plugins, and each other.
pub(crate) struct Shared {
    pub(crate) root: SigningCa,
    pub(crate) ips: IpPool,
    pub(crate) clusters: Clusters,
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
    pub(crate) async fn start(prepared: Prepared, shared: &Shared) -> Result<LocalCluster, String> {
        let Prepared { name, dir, store } = prepared;
        let issuer = Issuer::generate(
            &shared.root,
            &format!("identity.{CONTROL_PLANE_NAMESPACE}.{name}"),
            Duration::from_secs(365 * 86_400),
        )
        .map_err(|e| format!("cluster {name}: issuer: {e}"))?;
        let domain = IdentityDomain::new(CONTROL_PLANE_NAMESPACE, TRUST_DOMAIN)
            .map_err(|e| format!("cluster {name}: {e}"))?;
        // The control plane's namespace, as an installed cluster has it:
        // the plugins ConfigMap and the Links' credentials live there.
        store
            .apply_json(
                serde_json::json!({
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": CONTROL_PLANE_NAMESPACE},
                }),
                "strait-local",
            )
            .map_err(|e| format!("cluster {name}: namespace {CONTROL_PLANE_NAMESPACE}: {e}"))?;
        let tokens = EmbeddedTokens::new();
        let clusters = shared.clusters.clone();
        // This cluster's plugins: the built-in ones until its plugins
        // ConfigMap (`linkerd/strait-plugins`) names others.
        let offer = PluginOffer::new();
        let export = Arc::new(
            ExportPlugin::new(&shared.host, "export", &shared.export_plugin)
                .map_err(|e| format!("cluster {name}: export plugin: {e}"))?,
        );
        let plane = ControlPlane::new()
            .with_identity(Arc::new(Certifier::new(issuer, domain)), tokens.clone())
            .with_policy(store.clone(), IndexConfig::default(), &offer)
            .with_destination(
                store.clone(),
                &name,
                ClusterConfig::default(),
                CONTROL_PLANE_NAMESPACE,
                move |secret| std::future::ready(links::cluster_of_secret(&secret, &clusters)),
            )
            .serve("127.0.0.1:0".parse().map_err(|e| format!("{e}"))?)
            .await
            .map_err(|e| format!("cluster {name}: control plane: {e}"))?;
        let trust_anchors_pem = shared.root.as_trust_anchor().to_pem();
        let workloads = Workloads::start(ClusterRuntime {
            name: name.clone(),
            store: store.clone(),
            control_plane: plane.local_addr(),
            trust_anchors_pem: trust_anchors_pem.clone(),
            tokens,
            ips: shared.ips.clone(),
            control_plane_namespace: CONTROL_PLANE_NAMESPACE.to_string(),
            trust_domain: TRUST_DOMAIN.to_string(),
            cluster_domain: CLUSTER_DOMAIN.to_string(),
        })
        .await;
        let mut tasks = vec![tokio::spawn(links::mirror_every_link(
            store.clone(),
            shared.clusters.clone(),
            export.clone(),
            shared.mirror_metrics.clone(),
        ))];
        let export_sink: PluginSink =
            Arc::new(move |plugin, _| export.load(plugin).map(drop).map_err(|e| e.to_string()));
        tasks.push(tokio::spawn(follow_plugin_config_map(
            store.clone(),
            CONTROL_PLANE_NAMESPACE.to_string(),
            PLUGINS_CONFIG_MAP.to_string(),
            shared.host.clone(),
            PluginSinks {
                authz: Some(offer_authz_plugins(&offer)),
                export: Some(export_sink),
            },
        )));
        let saving = Arc::new(std::sync::Mutex::new(()));
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
            plane,
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
        let _saving = self.saving.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = persist::save(&self.dir, &persist::state_text(&self.store)) {
            tracing::warn!(cluster = %self.name, %error, "state not saved");
        }
    }

    /// The pods and how they run.
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

    /// The control plane's address (identity, destination and policy).
    pub fn control_plane_addr(&self) -> std::net::SocketAddr {
        self.plane.local_addr()
    }
}

impl Drop for LocalCluster {
    /// The workloads and the control plane stop when dropped; the tasks
    /// started here are stopped with them.
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
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

impl ClusterBackend for LocalCluster {
    fn name(&self) -> &str {
        &self.name
    }

    fn store(&self) -> &MemoryStore {
        &self.store
    }

    fn scrapes(&self, window: Duration) -> Vec<PodScrapes> {
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
                    meshed: pod.meshed,
                    ready: pod.ready,
                    first: first.map(wire),
                    last: last.map(wire),
                }
            })
            .collect()
    }

    fn info(&self) -> ClusterInfo {
        ClusterInfo {
            name: self.name.clone(),
            trust_anchors_pem: self.trust_anchors_pem.clone(),
            cluster_domain: CLUSTER_DOMAIN.to_string(),
            trust_domain: TRUST_DOMAIN.to_string(),
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
    saving: Arc<std::sync::Mutex<()>>,
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
        // Taken before the state is read: a save at shutdown, after this
        // one, writes a state at least as new.
        let _saving = saving.lock().unwrap_or_else(PoisonError::into_inner);
        let text = persist::state_text(&store);
        if text == saved {
            continue;
        }
        match persist::save(&dir, &text) {
            Ok(()) => saved = text,
            Err(error) => tracing::warn!(cluster = %name, %error, "state not saved"),
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
