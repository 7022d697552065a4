//! `strait local`: the pod-to-pod guide on one machine, no Kubernetes.
//!
//! Every subdirectory of a directory is a cluster: an embedded store
//! loaded from its YAML files (and the state saved from the last run), a
//! control plane whose issuer chains to a root shared by all the clusters,
//! a service mirror per Link, and the cluster's workloads, with a proxy per
//! meshed pod on one flat loopback network. Each cluster serves the
//! Kubernetes API ([`kube_api`]), and the kubeconfig written to STRAIT_HOME
//! names them, so kubectl and the `strait --context <cluster>` commands
//! reach them as they reach any cluster; `viz` reads the proxies' metrics
//! from the history kept here, which the API serves.

mod cluster;
pub mod controllers;
mod error;
pub mod kube_api;
mod links;
mod persist;
mod pods;
mod scrape;
mod token;
mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strait_identity::SigningCa;
use strait_local_workloads::IpPool;
use strait_mirror::MirrorMetrics;
use strait_plugin_host::{HostConfig, PluginHost, PluginMetrics};
use strait_runtime::plugins::builtin_export;
use strait_store::Reachability;
use tokio::task::JoinHandle;

pub use cluster::LocalCluster;
pub use error::{BoxError, LocalError, MAX_CLUSTERS};
pub use links::{LOCAL_SCHEME, local_target};
pub use persist::{Loaded, load, state_text};
pub use scrape::{History, SCRAPE_INTERVAL, Sampled};
pub use view::{final_tables, live_view, viz_pod_infos, viz_pods};

/// How `local up` runs.
#[derive(Clone, Debug)]
pub struct UpOptions {
    /// The directory with one subdirectory per cluster.
    pub dir: PathBuf,
    /// The STRAIT_HOME whose kubeconfig names the clusters; `None` reads it
    /// from the environment as the `strait` commands do. A drill or a test
    /// passes its own, so it never touches the user's contexts.
    pub strait_home: Option<PathBuf>,
    /// Also merge the clusters' contexts into this kubeconfig (the user's
    /// default one, for `--merge-kubeconfig`).
    pub merge_kubeconfig: Option<PathBuf>,
    /// strait's controllers reach their own cluster through its Kubernetes
    /// API with kube's client, as on Kubernetes, rather than in-process.
    pub controllers_via_api: bool,
}

/// The running clusters and the Kubernetes APIs serving them.
pub struct LocalMesh {
    clusters: Vec<Arc<LocalCluster>>,
    started: Instant,
    tasks: Vec<JoinHandle<()>>,
    /// STRAIT_HOME, where the kubeconfig goes.
    strait_home: PathBuf,
    /// Every cluster as the others reach it.
    remote_access: links::Clusters,
    /// Each cluster's Kubernetes API.
    apis: Vec<kube_api::ClusterApi>,
    /// The kubeconfig naming them, removed when the mesh stops.
    kubeconfig: Option<PathBuf>,
    /// What merging into the user's kubeconfig did, if asked.
    merged: Option<(PathBuf, kube_api::Merged)>,
    /// Whether the controllers go through the APIs.
    controllers_via_api: bool,
}

impl std::fmt::Debug for LocalMesh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMesh")
            .field("clusters", &self.names())
            .finish_non_exhaustive()
    }
}

/// The clusters of `dir`: its subdirectories that hold no dot in their
/// name, sorted. Errors name the directory.
pub fn cluster_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, LocalError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LocalError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut clusters: Vec<(String, PathBuf)> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_string();
            (!name.starts_with('.')).then_some((name, path))
        })
        .collect();
    clusters.sort();
    if clusters.is_empty() {
        return Err(LocalError::NoClusters {
            dir: dir.to_path_buf(),
        });
    }
    Ok(clusters)
}

/// Starts every cluster of `options.dir`, each with its Kubernetes API,
/// and writes the kubeconfig naming them to STRAIT_HOME, where kubectl (with
/// `KUBECONFIG`) and the `strait --context` commands find them. Each API
/// answers only its token of this run, which only the kubeconfig (readable
/// by this user alone) holds.
pub async fn up(options: UpOptions) -> Result<LocalMesh, LocalError> {
    let dirs = cluster_dirs(&options.dir)?;
    let mut prepared = Vec::new();
    for (index, (name, dir)) in dirs.into_iter().enumerate() {
        prepared.push(cluster::Prepared::load(&name, dir, index)?);
    }
    let switches: links::Clusters = Arc::new(
        prepared
            .iter()
            .map(|p| (p.name.clone(), Reachability::new()))
            .collect::<BTreeMap<_, _>>(),
    );
    // The APIs first: the Links' credentials name them before any service
    // mirror or destination service reads those credentials.
    let mut apis = BTreeMap::new();
    let mut hosts = BTreeMap::new();
    let mut api_tasks = Vec::new();
    for p in &prepared {
        let host = pods::LateHost::default();
        let switch = switches.get(&p.name).cloned().unwrap_or_default();
        let (api, task) = kube_api::start(
            &p.name,
            p.store.clone(),
            switch,
            Some(Arc::new(host.clone())),
        )
        .await?;
        api_tasks.push(task);
        hosts.insert(p.name.clone(), host);
        apis.insert(p.name.clone(), api);
    }
    let apis = Arc::new(apis);
    if options.controllers_via_api {
        for p in &mut prepared {
            let Some(api) = apis.get(&p.name) else {
                continue;
            };
            let kubeconfig = kube_api::single_kubeconfig(api)?;
            let store = strait_store_kube::KubeStore::from_kubeconfig_yaml(&kubeconfig)
                .map_err(|e| LocalError::cluster(&p.name, "the controllers' API client", e))?;
            p.controllers = controllers::ControllerStore::Api(store);
        }
    }
    for p in &prepared {
        let rewritten = links::refresh_credentials(&p.store, &apis).await;
        if rewritten > 0 {
            tracing::info!(cluster = %p.name, rewritten, "credentials point at this run's API servers");
        }
    }
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new())
        .map_err(|e| LocalError::shared("plugin host", e))?;
    let export_plugin = builtin_export()
        .read()
        .map_err(|e| LocalError::shared("the built-in export plugin", e))?;
    let shared = cluster::Shared {
        root: SigningCa::generate_root(
            "root.linkerd.cluster.local",
            Duration::from_secs(365 * 86_400),
        )
        .map_err(|e| LocalError::shared("trust anchor", e))?,
        ips: IpPool::new(),
        host,
        export_plugin,
        mirror_metrics: MirrorMetrics::default(),
    };
    let strait_home = match options.strait_home {
        Some(home) => home,
        None => strait_multicluster::kubeconfig::strait_home().ok_or(LocalError::NoHome)?,
    };
    let mut running = Vec::new();
    for prepared in prepared {
        let cluster = Arc::new(LocalCluster::start(prepared, &shared).await?);
        if let Some(host) = hosts.get(cluster.name()) {
            host.bind(cluster.clone());
        }
        api_tasks.push(tokio::spawn(links::refresh_forever(
            cluster.store().clone(),
            apis.clone(),
        )));
        running.push(cluster);
    }
    let scraper = tokio::spawn(cluster::scrape_forever(running.clone()));
    let mut tasks = vec![scraper];
    tasks.extend(api_tasks);
    let mut mesh = LocalMesh {
        clusters: running,
        started: Instant::now(),
        tasks,
        strait_home,
        remote_access: switches,
        apis: apis.values().cloned().collect(),
        kubeconfig: None,
        merged: None,
        controllers_via_api: options.controllers_via_api,
    };
    mesh.write_kubeconfig(options.merge_kubeconfig.as_deref())?;
    Ok(mesh)
}

impl LocalMesh {
    /// Writes the kubeconfig that reaches the clusters' APIs (and merges
    /// it into `merge`, when given).
    fn write_kubeconfig(&mut self, merge: Option<&Path>) -> Result<(), LocalError> {
        self.kubeconfig = Some(kube_api::write(&self.strait_home, &self.apis)?);
        if let Some(path) = merge {
            let merged = kube_api::merge_into(path, &self.apis)?;
            self.merged = Some((path.to_path_buf(), merged));
        }
        Ok(())
    }

    /// Each cluster's Kubernetes API: its server, CA and token.
    pub fn kube_apis(&self) -> &[kube_api::ClusterApi] {
        &self.apis
    }

    /// The kubeconfig with a context per cluster (`KUBECONFIG=<this>
    /// kubectl --context east ...`).
    pub fn kubeconfig(&self) -> Option<&Path> {
        self.kubeconfig.as_deref()
    }

    /// The kubeconfig the contexts were merged into, and which were kept
    /// because the user has their own of that name.
    pub fn merged(&self) -> Option<&(PathBuf, kube_api::Merged)> {
        self.merged.as_ref()
    }

    /// Whether strait's controllers reach their clusters through the
    /// clusters' Kubernetes APIs (`--controllers-via-api`).
    pub fn controllers_via_api(&self) -> bool {
        self.controllers_via_api
    }

    /// The clusters' names.
    pub fn names(&self) -> Vec<String> {
        self.clusters.iter().map(|c| c.name().to_string()).collect()
    }

    /// The running clusters.
    pub fn clusters(&self) -> &[Arc<LocalCluster>] {
        &self.clusters
    }

    /// The switch of `cluster`'s API server as the other clusters reach it
    /// (their service mirrors and destination services): cutting it is an
    /// outage of that API server seen from everywhere else, while the
    /// cluster itself runs on.
    pub fn api_reachability(&self, cluster: &str) -> Option<Reachability> {
        self.remote_access.get(cluster).cloned()
    }

    /// How long the mesh has run.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops everything and removes the kubeconfig naming the clusters.
    pub async fn shutdown(mut self) {
        self.stop_now();
        // Let proxies and servers finish closing before the process moves on.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    fn stop_now(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // The periodic save may not have seen the last changes yet.
        for cluster in &self.clusters {
            cluster.save_state();
        }
        self.clusters.clear();
        if let Some(kubeconfig) = self.kubeconfig.take()
            && let Err(error) = std::fs::remove_file(&kubeconfig)
        {
            tracing::warn!(%error, file = %kubeconfig.display(), "kubeconfig not removed");
        }
    }
}

impl Drop for LocalMesh {
    fn drop(&mut self) {
        self.stop_now();
    }
}
