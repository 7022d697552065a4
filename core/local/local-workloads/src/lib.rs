//! The workloads of one embedded cluster, as `strait local` runs them.
//!
//! On Kubernetes, Deployments become ReplicaSets and Pods through the
//! controller manager, Pods run through the kubelet and a container
//! runtime, and Services get their endpoints from the EndpointSlice
//! controller. `strait local` has none of these, so this crate plays all
//! three for one cluster, against the cluster's [`MemoryStore`]:
//!
//! - the Deployment controller writes the Pods each Deployment asks for,
//!   injecting a `linkerd-proxy` container where `linkerd.io/inject` says so,
//!   and the StatefulSet controller, with the same machinery, the Pods of
//!   each StatefulSet, under stable names and in order;
//! - the kubelet gives each Pod an address from a shared loopback
//!   [`IpPool`] (one flat network for every cluster, as the pod-to-pod guide
//!   requires; addresses whose ports another process holds, such as a
//!   second `strait local up`, are passed over), runs its containers in-process and, for a meshed Pod, a
//!   strait proxy bound to the Pod's address; a StatefulSet's Pod gets the
//!   same address for its name every time;
//! - the EndpointSlice controller lists each selecting Service's Pods, each
//!   under its hostname when its subdomain names the Service.
//!
//! Only the images the guides use can run (`buoyantio/bb` as `terminus`,
//! `buoyantio/slow_cooker`, and the proxy image with
//! `STRAIT_PROXY_GATEWAY=true` as a multicluster gateway: a proxy in gateway
//! mode on the Pod's inbound and admin ports, with no application); any other
//! Pod stays `Pending` with a reason saying so, rather than being skipped
//! silently.

mod accounts;
mod apps;
mod deployments;
mod endpoints;
mod images;
mod inject;
mod ip_pool;
mod kubelet;
mod logs;
mod naming;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use parking_lot::Mutex;
use strait_identity::EmbeddedTokens;
use strait_store::MemoryStore;
use tokio::task::JoinHandle;

pub use apps::{LoadCounts, LoadTotals};
pub use images::{
    EchoServer, Program, SlowCooker, Terminus, UnsupportedImage, UnsupportedReason, Url, program_of,
};
pub use ip_pool::IpPool;
pub use logs::{
    ContainerLog, LogError, LogFollow, LogLine, LogOptions, MAX_BYTES, MAX_LINE_BYTES, MAX_LINES,
    PodLog, PodLogs,
};

/// The field manager every object this crate writes is applied as, so the
/// user's own applies of the same objects never fight over fields.
pub const FIELD_MANAGER: &str = "strait-local";

/// What the orchestration hands over for one cluster: its store, where its
/// control plane listens, and what its proxies need to get identities.
#[derive(Clone, Debug)]
pub struct ClusterRuntime {
    /// The cluster's name, for logs.
    pub name: String,
    /// The cluster's objects: Deployments, StatefulSets and Services are read from it,
    /// Pods and EndpointSlices written to it.
    pub store: MemoryStore,
    /// Where identity, destination and policy are all served.
    pub control_plane: SocketAddr,
    /// PEM of the trust anchors every proxy trusts.
    pub trust_anchors_pem: String,
    /// The token table the identity service validates against: one token
    /// is registered per meshed Pod.
    pub tokens: EmbeddedTokens,
    /// The addresses Pods get; shared by every cluster of a `strait local`.
    pub ips: IpPool,
    /// The control plane's namespace (`linkerd`), part of every identity.
    pub control_plane_namespace: String,
    /// The trust domain (`cluster.local`), part of every identity.
    pub trust_domain: String,
    /// The cluster's DNS domain, to resolve Service names for unmeshed Pods.
    pub cluster_domain: String,
}

/// One Pod as the kubelet sees it, for a live view and for scraping proxy
/// metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodView {
    /// The Pod's namespace.
    pub namespace: String,
    /// The Pod's name.
    pub name: String,
    /// The Deployment that owns it, if any.
    pub deployment: Option<String>,
    /// The ReplicaSet that controls it, if any.
    pub replicaset: Option<String>,
    /// The StatefulSet that controls it, if any.
    pub statefulset: Option<String>,
    /// Its address, once it has one.
    pub ip: Option<IpAddr>,
    /// Whether its containers run and, if meshed, its proxy has an identity.
    pub ready: bool,
    /// Whether it runs a proxy.
    pub meshed: bool,
    /// Where its proxy serves `/metrics`, when meshed and started.
    pub proxy_admin: Option<SocketAddr>,
    /// Why it does not run (an image strait cannot run, an address taken).
    pub problem: Option<String>,
    /// The totals of the load generator (slow_cooker) it runs, if any.
    pub load: Option<LoadCounts>,
}

/// The Pods known to the kubelet, shared with [`Workloads::pods`].
pub(crate) type PodTable = Arc<Mutex<kubelet::Pods>>;

/// Reads the logs of a cluster's Pods (see [`Workloads::logs`]).
#[derive(Clone)]
pub struct LogReader {
    pods: PodTable,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader").finish_non_exhaustive()
    }
}

impl LogReader {
    /// The log of `container` (or the Pod's only container) of a Pod.
    pub fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
    ) -> Result<PodLog, LogError> {
        let key = (namespace.to_string(), pod.to_string());
        let logs = self.pods.lock().logs(&key).ok_or_else(|| LogError::NoPod {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
        })?;
        logs.resolve(pod, container)
    }
}

/// The running controllers and Pods of one cluster. Dropping it stops
/// everything it started (Pods, proxies, apps) and gives their addresses
/// back to the pool; the store is left as it is.
pub struct Workloads {
    cluster: String,
    pods: PodTable,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Workloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workloads")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

impl Workloads {
    /// Starts the controllers and the kubelet for `cluster`. They follow the
    /// store from its current state on, so objects applied before or after
    /// this call are handled alike.
    pub async fn start(cluster: ClusterRuntime) -> Workloads {
        let pods: PodTable = Arc::new(Mutex::new(kubelet::Pods::new(
            cluster.ips.clone(),
            cluster.tokens.clone(),
        )));
        let tasks = vec![
            tokio::spawn(accounts::run(cluster.store.clone())),
            tokio::spawn(deployments::run(
                cluster.store.clone(),
                cluster.control_plane_namespace.clone(),
                inject::proxy(&cluster),
            )),
            tokio::spawn(endpoints::run(cluster.store.clone())),
            tokio::spawn(kubelet::run(cluster.clone(), pods.clone())),
        ];
        tracing::info!(cluster = %cluster.name, "workloads started");
        Workloads {
            cluster: cluster.name,
            pods,
            tasks,
        }
    }

    /// Every Pod the kubelet knows, sorted by namespace and name.
    pub fn pods(&self) -> Vec<PodView> {
        self.pods.lock().views()
    }

    /// The log of one container of a Pod, as `kubectl logs` reads it:
    /// `container` may be left out only when the Pod has one container
    /// (init containers aside), as the API server requires; kubectl picks
    /// a default container itself before asking.
    pub fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
    ) -> Result<PodLog, LogError> {
        self.log_reader().logs(namespace, pod, container)
    }

    /// A handle that reads the Pods' logs for as long as it is held, for a
    /// server that outlives a borrow of the workloads.
    pub fn log_reader(&self) -> LogReader {
        LogReader {
            pods: self.pods.clone(),
        }
    }

    /// Stops the controllers and every Pod, and waits until their sockets
    /// are closed, so the addresses can be used again at once.
    pub async fn stop(mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        let running = self.pods.lock().stop_all();
        for task in running {
            let _ = task.await;
        }
        tracing::info!(cluster = %self.cluster, "workloads stopped");
    }
}

impl Drop for Workloads {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let running = self.pods.lock().stop_all();
        for task in running {
            task.abort();
        }
    }
}
