//! `strait local`: the pod-to-pod guide on one machine, no Kubernetes.
//!
//! Every subdirectory of a directory is a cluster: an embedded store
//! loaded from its YAML files (and the state saved from the last run), a
//! control plane whose issuer chains to a root shared by all the clusters,
//! a service mirror per Link, and the cluster's workloads, with a proxy per
//! meshed pod on one flat loopback network. The `strait --context <cluster>`
//! commands reach the clusters through the local API; `viz` reads the
//! proxies' metrics from the history kept here.

mod cluster;
pub mod controllers;
mod error;
pub mod kube_api;
mod links;
mod persist;
mod pods;
mod scrape;
mod view;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strait_identity::SigningCa;
use strait_local_api::{ApiToken, ClusterBackend, LocalContext, Registry};
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
    /// Where the local API listens (loopback; port 0 picks one).
    pub api_addr: SocketAddr,
    /// The STRAIT_HOME whose context registry names the clusters; `None`
    /// reads it from the environment as the `strait` commands do. A drill
    /// or a test passes its own, so it never touches the user's contexts.
    pub strait_home: Option<PathBuf>,
    /// Also merge the clusters' contexts into this kubeconfig (the user's
    /// default one, for `--merge-kubeconfig`).
    pub merge_kubeconfig: Option<PathBuf>,
    /// strait's controllers reach their own cluster through its Kubernetes
    /// API with kube's client, as on Kubernetes, rather than in-process.
    pub controllers_via_api: bool,
}

/// The running clusters and the local API serving them.
pub struct LocalMesh {
    clusters: Vec<Arc<LocalCluster>>,
    api_addr: SocketAddr,
    started: Instant,
    tasks: Vec<JoinHandle<()>>,
    registered: Vec<String>,
    registry: Registry,
    /// The file holding the API's token, removed when the mesh stops.
    token_file: Option<PathBuf>,
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
            .field("api_addr", &self.api_addr)
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

/// Starts every cluster of `options.dir` and the local API, and registers
/// the clusters as `--context` names for the `strait` commands. The API
/// answers only this run's token, which goes to a file in STRAIT_HOME that
/// only this user can read and that the registry entries name.
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
    let mut running = Vec::new();
    let mut contexts = BTreeMap::new();
    for prepared in prepared {
        let dir = prepared.dir.clone();
        let cluster = Arc::new(LocalCluster::start(prepared, &shared).await?);
        if let Some(host) = hosts.get(cluster.name()) {
            host.bind(cluster.clone());
        }
        api_tasks.push(tokio::spawn(links::refresh_forever(
            cluster.store().clone(),
            apis.clone(),
        )));
        contexts.insert(cluster.name().to_string(), dir);
        running.push(cluster);
    }
    let backends: Vec<Arc<dyn ClusterBackend>> = running
        .iter()
        .map(|c| c.clone() as Arc<dyn ClusterBackend>)
        .collect();
    let registry = match &options.strait_home {
        Some(home) => Registry::in_dir(home),
        None => Registry::from_env().map_err(|e| LocalError::shared("the context registry", e))?,
    };
    // A fresh token each run: a client of an earlier run holds a dead one.
    let token = ApiToken::generate().map_err(|e| LocalError::shared("the local API token", e))?;
    let (api_addr, api_task) = strait_local_api::serve(options.api_addr, backends, token.clone())
        .await
        .map_err(|e| LocalError::Api {
            addr: options.api_addr,
            source: e.into(),
        })?;
    let token_file = registry.token_file(api_addr);
    if let Err(e) = token.write_file(&token_file) {
        api_task.abort();
        return Err(LocalError::shared("the local API token", e));
    }
    let pid = std::process::id();
    let registered: Vec<String> = contexts.keys().cloned().collect();
    let registering = registry.register(
        &contexts
            .into_iter()
            .map(|(name, dir)| {
                let context = LocalContext {
                    api: format!("http://{api_addr}"),
                    dir: dir.canonicalize().unwrap_or(dir),
                    pid,
                    token_file: Some(token_file.clone()),
                };
                (name, context)
            })
            .collect(),
    );
    if let Err(e) = registering {
        api_task.abort();
        let _ = std::fs::remove_file(&token_file);
        return Err(LocalError::shared("registering the contexts", e));
    }
    let scraper = tokio::spawn(cluster::scrape_forever(running.clone()));
    let mut tasks = vec![api_task, scraper];
    tasks.extend(api_tasks);
    let mut mesh = LocalMesh {
        clusters: running,
        api_addr,
        started: Instant::now(),
        tasks,
        registered,
        registry,
        token_file: Some(token_file),
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
        let home = self
            .registry
            .path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.kubeconfig = Some(kube_api::write(&home, &self.apis)?);
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

    /// Where the local API listens.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The registry the clusters are in, whose entries name the API's token
    /// file: what the `strait` commands read to reach them.
    pub fn registry(&self) -> &Registry {
        &self.registry
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

    /// Stops everything and forgets the contexts.
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
        if !self.registered.is_empty() {
            if let Err(error) = self.registry.unregister(&self.registered) {
                tracing::warn!(%error, "contexts not unregistered");
            }
            self.registered.clear();
            self.clusters.clear();
        }
        if let Some(kubeconfig) = self.kubeconfig.take()
            && let Err(error) = std::fs::remove_file(&kubeconfig)
        {
            tracing::warn!(%error, file = %kubeconfig.display(), "kubeconfig not removed");
        }
        // After the contexts: a command that still finds one is told the
        // API is down, not that its token is missing.
        if let Some(token_file) = self.token_file.take()
            && let Err(error) = std::fs::remove_file(&token_file)
        {
            tracing::warn!(%error, file = %token_file.display(), "API token file not removed");
        }
    }
}

impl Drop for LocalMesh {
    fn drop(&mut self) {
        self.stop_now();
    }
}
