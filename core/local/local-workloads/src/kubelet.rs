//! The kubelet: runs every Pod of the store in-process. A Pod gets an
//! address from the shared pool, its containers run as the built-in images
//! and, when it has a `linkerd-proxy` container, a strait proxy binds the
//! Pod's ports in front of them. A multicluster gateway's Pod runs only its
//! proxy, in gateway mode, at an address that stays the same from one start
//! to the next. Its status says how far it got, and a Pod that cannot run
//! says why.

mod containers;
mod drain;
mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use strait_api::key::{Key, key_of};
use strait_api::pod::{POD_TEMPLATE_HASH, controller_of, deployment_of};
use strait_identity::{EmbeddedTokens, ServiceAccountRef};
use strait_mesh::names::PROXY_CONTAINER;
use strait_mesh::ports::{ADMIN_PORT, INBOUND_PORT, OUTBOUND_PORT};
use strait_proxy::{DirectInbound, IdentityConfig, ProxyConfig, TokenConfig};
use strait_sidecar::is_meshed;
use strait_store::{ClusterStore, Event, MemoryStore, WatchParams};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::apps::{self, Dial, Task};
use crate::images::Program;
use crate::logs::{ContainerLog, PodLogs};
use crate::naming;
use crate::{ClusterRuntime, IpPool, PodTable, PodView};
use containers::{Containers, bound_ports, containers_of};

/// How long to wait for a proxy's identity before saying it is late.
const READY_PATIENCE: Duration = Duration::from_secs(30);

/// The Pods the kubelet runs, with what each holds (its address, its
/// proxy's token, the task that owns its sockets).
pub(crate) struct Pods {
    ips: IpPool,
    tokens: EmbeddedTokens,
    records: BTreeMap<Key, Record>,
    /// Pods deleted and still serving while their clients move away.
    draining: drain::Draining,
}

struct Record {
    uid: String,
    view: PodView,
    ip: Option<IpAddr>,
    token: Option<Vec<u8>>,
    task: Option<JoinHandle<()>>,
    /// What its containers printed; gone with the Pod.
    logs: PodLogs,
}

impl Pods {
    pub(crate) fn new(ips: IpPool, tokens: EmbeddedTokens) -> Self {
        Pods {
            ips,
            tokens,
            records: BTreeMap::new(),
            draining: drain::Draining::default(),
        }
    }

    pub(crate) fn views(&self) -> Vec<PodView> {
        self.records.values().map(|r| r.view.clone()).collect()
    }

    /// The logs of the Pod `key`, if the kubelet knows it.
    pub(crate) fn logs(&self, key: &Key) -> Option<PodLogs> {
        self.records.get(key).map(|r| r.logs.clone())
    }

    /// Stops a Pod: its token stops proving anything, its address goes back
    /// to the pool, its task (and so its sockets) is aborted; the handle is
    /// returned to wait for that.
    fn remove(&mut self, key: &Key) -> Option<JoinHandle<()>> {
        let record = self.records.remove(key)?;
        self.finish(record)
    }

    /// Stops a Pod taken out of the table.
    fn finish(&mut self, record: Record) -> Option<JoinHandle<()>> {
        record.logs.close();
        if let Some(token) = &record.token {
            self.tokens.revoke(token);
        }
        if let Some(ip) = record.ip {
            self.ips.release(ip);
        }
        let task = record.task?;
        task.abort();
        Some(task)
    }

    /// Stops every Pod; the handles are returned to wait for their sockets.
    pub(crate) fn stop_all(&mut self) -> Vec<JoinHandle<()>> {
        let keys: Vec<Key> = self.records.keys().cloned().collect();
        let mut stopped: Vec<_> = keys.iter().filter_map(|k| self.remove(k)).collect();
        stopped.extend(drain::stop_now(self));
        stopped
    }

    fn update(&mut self, key: &Key, uid: &str, change: impl FnOnce(&mut PodView)) {
        if let Some(record) = self.records.get_mut(key).filter(|r| r.uid == uid) {
            change(&mut record.view);
        }
    }
}

fn uid_of(pod: &Pod) -> String {
    pod.metadata
        .uid
        .clone()
        .or_else(|| {
            pod.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| format!("{t:?}"))
        })
        .unwrap_or_default()
}

/// Runs the store's Pods until its watch ends.
pub(crate) async fn run(cluster: ClusterRuntime, table: PodTable) {
    let mut pods = cluster.store.watch::<Pod>(WatchParams::all());
    while let Some(event) = pods.next().await {
        match event {
            Ok(Event::Apply(pod)) => {
                let key = key_of(&pod.metadata);
                let uid = uid_of(&pod);
                let known = table.lock().records.get(&key).map(|r| r.uid.clone());
                match known {
                    Some(known) if known == uid => {}
                    Some(_) => {
                        table.lock().remove(&key);
                        start(&cluster, &table, pod);
                    }
                    None => {
                        let predecessor = drain::stop_named(&mut table.lock(), &key);
                        if let Some((ip, task)) = predecessor {
                            if let Some(task) = task {
                                let _ = task.await;
                            }
                            if let Some(ip) = ip {
                                drain::sockets_closed(ip, &pod).await;
                            }
                        }
                        start(&cluster, &table, pod);
                    }
                }
            }
            Ok(Event::Delete(pod)) => {
                let key = key_of(&pod.metadata);
                if drain::retire(&table, &key) {
                    tracing::info!(pod = %key.1, namespace = %key.0, "stopping");
                }
            }
            Ok(Event::Reset(all)) => {
                let wanted: BTreeMap<Key, String> = all
                    .iter()
                    .map(|p| (key_of(&p.metadata), uid_of(p)))
                    .collect();
                {
                    let mut pods = table.lock();
                    let stale: Vec<Key> = pods
                        .records
                        .iter()
                        .filter(|(k, r)| wanted.get(*k) != Some(&r.uid))
                        .map(|(k, _)| k.clone())
                        .collect();
                    for key in stale {
                        pods.remove(&key);
                    }
                }
                for pod in all {
                    let known = table.lock().records.contains_key(&key_of(&pod.metadata));
                    if !known {
                        start(&cluster, &table, pod);
                    }
                }
            }
            Err(err) => tracing::debug!("pod watch: {err}"),
        }
    }
}

/// Everything a Pod's task needs, gathered before it is spawned.
struct Launch {
    key: Key,
    uid: String,
    ip: IpAddr,
    meshed: bool,
    /// Whether the proxy is a multicluster gateway (and the Pod nothing else).
    gateway: bool,
    service_account: String,
    token: Option<Vec<u8>>,
    programs: Vec<(String, Program)>,
    metric_labels: BTreeMap<String, String>,
    /// The ports the Pod binds on its address, to find another free one.
    ports: Vec<u16>,
    logs: PodLogs,
}

/// What keeps a Pod from running: the container at fault (empty for the
/// Pod as a whole), its image, and the message for the Pod's status.
type Problem = (String, String, String);

/// Starts a Pod, or records why it cannot start.
fn start(cluster: &ClusterRuntime, table: &PodTable, pod: Pod) {
    let key = key_of(&pod.metadata);
    let uid = uid_of(&pod);
    let deployment = deployment_of(&pod);
    let spec = pod.spec.clone().unwrap_or_default();
    let service_account = spec
        .service_account_name
        .clone()
        .filter(|sa| !sa.is_empty())
        .unwrap_or_else(|| "default".into());
    let Containers {
        programs,
        mut problems,
        gateway,
    } = containers_of(&spec);
    let meshed = gateway || is_meshed(&pod);
    let mut view = PodView {
        namespace: key.0.clone(),
        name: key.1.clone(),
        deployment: deployment.clone(),
        replicaset: controller_of(&pod, "ReplicaSet"),
        statefulset: controller_of(&pod, "StatefulSet"),
        ip: None,
        ready: false,
        meshed,
        proxy_admin: None,
        problem: None,
        load: None,
    };
    let ports = bound_ports(&programs, meshed);
    let ip = if problems.is_empty() {
        let named = view.statefulset.is_some();
        let ip = address_for(cluster, &key, deployment.as_deref(), &ports, gateway, named);
        if ip.is_none() {
            problems.push((
                String::new(),
                String::new(),
                "no free Pod address is left in 127.1.0.0/16".into(),
            ));
        }
        ip
    } else {
        None
    };
    let (Some(ip), true) = (ip, problems.is_empty()) else {
        refuse(cluster, table, &pod, key, uid, view, &problems);
        return;
    };
    let token = meshed.then(|| register_token(cluster, &key, &service_account));
    let metric_labels = metric_labels_of(&pod, &key, deployment.as_deref());
    let logs = PodLogs::of_spec(&spec);
    view.ip = Some(ip);
    let launch = Launch {
        key: key.clone(),
        uid: uid.clone(),
        ip,
        meshed,
        gateway,
        service_account,
        token: token.clone(),
        programs,
        metric_labels,
        ports,
        logs: logs.clone(),
    };
    // The record goes in before the task starts, so that what the task
    // reports (its readiness) finds it, however fast the Pod comes up.
    let mut pods = table.lock();
    pods.records.insert(
        key.clone(),
        Record {
            uid,
            view,
            ip: Some(ip),
            token,
            task: None,
            logs,
        },
    );
    let task = tokio::spawn(run_pod(cluster.clone(), table.clone(), pod, launch));
    if let Some(record) = pods.records.get_mut(&key) {
        record.task = Some(task);
    }
}

/// A free address for the Pod; a gateway's is the same on every start,
/// and a `named` Pod's (a StatefulSet's) the same for its name.
fn address_for(
    cluster: &ClusterRuntime,
    key: &Key,
    deployment: Option<&str>,
    ports: &[u16],
    gateway: bool,
    named: bool,
) -> Option<IpAddr> {
    // Links name the gateway by address, and a StatefulSet's Pod is known
    // by its name: the same address on every start.
    let owner = deployment.unwrap_or(&key.1);
    let stable_key = format!("{}/{}/{owner}", cluster.name, key.0);
    free_address(&cluster.ips, ports, || {
        if gateway {
            cluster.ips.allocate_stable(&stable_key)
        } else if named {
            cluster.ips.allocate_named(&stable_key)
        } else {
            cluster.ips.allocate()
        }
    })
}

/// Records a Pod that cannot run, with why, in the Pod table and in its
/// status (written from a task, as the store is async and this is not).
fn refuse(
    cluster: &ClusterRuntime,
    table: &PodTable,
    pod: &Pod,
    key: Key,
    uid: String,
    mut view: PodView,
    problems: &[Problem],
) {
    let message = problems
        .iter()
        .map(|(_, _, m)| m.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    tracing::warn!(pod = %key.1, namespace = %key.0, "cannot run: {message}");
    view.problem = Some(message);
    let status = status::not_runnable(pod, problems);
    let store = cluster.store.clone();
    let (ns, name) = key.clone();
    let task = tokio::spawn(async move {
        write_status(&store, &ns, &name, status).await;
    });
    table.lock().records.insert(
        key,
        Record {
            uid,
            view,
            ip: None,
            token: None,
            task: Some(task),
            logs: PodLogs::of_spec(&pod.spec.clone().unwrap_or_default()),
        },
    );
}

/// A fresh token for the Pod's proxy, registered as proving its service
/// account, as a projected service-account token would.
fn register_token(cluster: &ClusterRuntime, key: &Key, service_account: &str) -> Vec<u8> {
    let token = format!(
        "strait-local.{}.{}.{}",
        key.0,
        key.1,
        naming::random_suffix(16)
    )
    .into_bytes();
    cluster.tokens.register(
        token.clone(),
        ServiceAccountRef::new(key.0.clone(), service_account.to_string()),
    );
    token
}

/// The labels the Pod's proxy puts on its metrics, as Prometheus would
/// attach them from the Pod's metadata when scraping it.
fn metric_labels_of(pod: &Pod, key: &Key, deployment: Option<&str>) -> BTreeMap<String, String> {
    let mut metric_labels = BTreeMap::from([
        ("namespace".to_string(), key.0.clone()),
        ("pod".to_string(), key.1.clone()),
    ]);
    if let Some(deployment) = deployment {
        metric_labels.insert("deployment".into(), deployment.to_string());
    }
    if let Some(hash) = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(POD_TEMPLATE_HASH))
    {
        metric_labels.insert("pod_template_hash".into(), hash.clone());
    }
    metric_labels
}

/// How many taken addresses are passed over before giving up.
const TAKEN_LIMIT: usize = 256;

/// An address from `allocate` whose `ports` no other process holds: every
/// `strait local up` on the machine hands out the same addresses, so a
/// second one (another user's, a test's) passes over the first one's.
fn free_address(
    pool: &IpPool,
    ports: &[u16],
    allocate: impl Fn() -> Option<IpAddr>,
) -> Option<IpAddr> {
    let mut taken = Vec::new();
    let found = loop {
        let Some(ip) = allocate() else {
            break None;
        };
        let free = ports
            .iter()
            .all(|port| std::net::TcpListener::bind(SocketAddr::new(ip, *port)).is_ok());
        if free {
            break Some(ip);
        }
        taken.push(ip);
        if taken.len() >= TAKEN_LIMIT {
            break None;
        }
    };
    if !taken.is_empty() {
        tracing::info!(?taken, "addresses in use by another process passed over");
    }
    // Given back only now, so `allocate` did not offer them again.
    for ip in taken {
        pool.release(ip);
    }
    found
}

/// How often a Pod whose address another process took in the meantime is
/// moved to a fresh one before it is reported as failed.
const ADDRESS_RETRIES: usize = 5;

/// Runs a Pod's containers (and proxy) and holds them until aborted.
async fn run_pod(cluster: ClusterRuntime, table: PodTable, pod: Pod, mut launch: Launch) {
    let (ns, name) = launch.key.clone();
    let mut retries = 0;
    loop {
        match launch_pod(&cluster, &table, &pod, &launch).await {
            Ok(held) => {
                tracing::info!(pod = %name, namespace = %ns, ip = %launch.ip, meshed = launch.meshed, "running");
                // The Pod's sockets live as long as this task.
                let _held = held;
                std::future::pending::<()>().await;
            }
            Err(failure) if failure.address_taken && retries < ADDRESS_RETRIES => {
                // Another process (a second `strait local up`) bound this
                // address between the check and the bind: move the Pod.
                retries += 1;
                match move_to_free_address(&cluster, &table, &launch) {
                    Some(ip) => {
                        tracing::info!(pod = %name, namespace = %ns, taken = %launch.ip, %ip, "address taken by another process; moving the pod");
                        launch.ip = ip;
                    }
                    None => {
                        // A gateway keeps its address (Links name it): wait
                        // for the other process to let go.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
            Err(failure) => {
                let (container, message) = (failure.container, failure.message);
                tracing::warn!(pod = %name, namespace = %ns, "cannot run: {message}");
                table.lock().update(&launch.key, &launch.uid, |view| {
                    view.problem = Some(message.clone());
                    view.ready = false;
                });
                let status = status::failed(&pod, &container, &message);
                write_status(&cluster.store, &ns, &name, status).await;
                return;
            }
        }
    }
}

/// Gives the Pod of `launch` a new free address in place of its taken one,
/// in the Pod table too; `None` for a gateway, whose address is stable.
fn move_to_free_address(
    cluster: &ClusterRuntime,
    table: &PodTable,
    launch: &Launch,
) -> Option<IpAddr> {
    if launch.gateway {
        return None;
    }
    let ip = free_address(&cluster.ips, &launch.ports, || cluster.ips.allocate())?;
    let mut pods = table.lock();
    let moved = match pods.records.get_mut(&launch.key) {
        Some(record) if record.uid == launch.uid => {
            record.ip = Some(ip);
            record.view.ip = Some(ip);
            true
        }
        _ => false,
    };
    if moved {
        pods.ips.release(launch.ip);
        Some(ip)
    } else {
        // The Pod was removed meanwhile; its task is being aborted.
        pods.ips.release(ip);
        None
    }
}

/// Why a Pod could not be launched: the container at fault and the
/// message for its status, and whether the cause is its address being
/// bound by another process (worth another address, not a failure).
struct LaunchFailure {
    container: String,
    message: String,
    address_taken: bool,
}

impl LaunchFailure {
    fn new(container: &str, message: String, error: Option<&std::io::Error>) -> Self {
        LaunchFailure {
            container: container.to_string(),
            message,
            address_taken: error.is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse),
        }
    }
}

/// What a running Pod holds: its proxy and its apps' tasks.
struct Held {
    _proxy: Option<strait_proxy::RunningProxy>,
    _apps: Vec<Task>,
}

/// Launches a Pod's servers, its proxy in front of them, then its clients,
/// and reports it ready once its proxy has an identity.
async fn launch_pod(
    cluster: &ClusterRuntime,
    table: &PodTable,
    pod: &Pod,
    launch: &Launch,
) -> Result<Held, LaunchFailure> {
    // Servers first: the proxy needs to know where they listen.
    let (listeners, direct) = bind_servers(launch).await?;
    let proxy = if launch.meshed {
        Some(start_proxy(cluster, table, launch, direct).await?)
    } else {
        None
    };
    let mut apps = Vec::new();
    for (listener, program, container) in listeners {
        let log = log_of(launch, &container);
        match program {
            Program::Terminus(terminus) => apps.push(apps::serve_terminus(listener, terminus, log)),
            Program::EchoServer(echo) => {
                apps.push(apps::serve_echo(listener, echo, launch.key.1.clone(), log));
            }
            Program::SlowCooker(_) | Program::Gateway => {}
        }
    }
    apps.extend(start_clients(cluster, table, launch));
    report_ready(cluster, table, pod, launch, proxy.as_ref()).await;
    Ok(Held {
        _proxy: proxy,
        _apps: apps,
    })
}

/// A server of the Pod, bound: its listener, its program and container.
type BoundServer = (TcpListener, Program, String);

/// Binds every server of the Pod: on its own address when unmeshed; behind
/// the proxy (on loopback, at a port the proxy is told) when meshed.
async fn bind_servers(
    launch: &Launch,
) -> Result<(Vec<BoundServer>, Vec<DirectInbound>), LaunchFailure> {
    let ip = launch.ip;
    let mut listeners = Vec::new();
    let mut direct = Vec::new();
    for (container, program) in &launch.programs {
        if let Some(port) = program.server_port() {
            let bind_to = if launch.meshed {
                SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 0)
            } else {
                SocketAddr::new(ip, port)
            };
            let listener = TcpListener::bind(bind_to).await.map_err(|e| {
                LaunchFailure::new(
                    container,
                    format!("container {container:?} cannot listen on {bind_to}: {e}"),
                    Some(&e),
                )
            })?;
            let app = listener
                .local_addr()
                .map_err(|e| LaunchFailure::new(container, e.to_string(), None))?;
            direct.push(DirectInbound {
                listen: SocketAddr::new(ip, port),
                app,
            });
            listeners.push((listener, program.clone(), container.clone()));
        }
    }
    Ok((listeners, direct))
}

/// Starts the Pod's proxy and shows its admin address in the Pod table; a
/// bind failure is kept as the cause, so a taken address moves the Pod.
async fn start_proxy(
    cluster: &ClusterRuntime,
    table: &PodTable,
    launch: &Launch,
    direct: Vec<DirectInbound>,
) -> Result<strait_proxy::RunningProxy, LaunchFailure> {
    let proxy = strait_proxy::start(proxy_config(cluster, launch, direct))
        .await
        .map_err(|e| {
            let bind_error = match &e {
                strait_proxy::StartError::Bind { source, .. } => Some(source),
                _ => None,
            };
            LaunchFailure::new(
                PROXY_CONTAINER,
                format!("the proxy cannot start: {e}"),
                bind_error,
            )
        })?;
    table.lock().update(&launch.key, &launch.uid, |view| {
        view.proxy_admin = Some(proxy.admin_addr);
    });
    Ok(proxy)
}

/// Starts the Pod's load generators, dialing through its proxy when meshed,
/// and shows their counts in the Pod table.
fn start_clients(cluster: &ClusterRuntime, table: &PodTable, launch: &Launch) -> Vec<Task> {
    let (ns, name) = &launch.key;
    let ip = launch.ip;
    let mut apps = Vec::new();
    for (container, program) in &launch.programs {
        if let Program::SlowCooker(cooker) = program {
            let dial = if launch.meshed {
                Dial::Fixed(SocketAddr::new(ip, OUTBOUND_PORT))
            } else {
                Dial::for_url(&cooker.url, ns, &cluster.cluster_domain, &cluster.store)
            };
            let log = log_of(launch, container);
            let (task, counts) =
                apps::run_slow_cooker((**cooker).clone(), dial, ip, format!("{ns}/{name}"), log);
            table
                .lock()
                .update(&launch.key, &launch.uid, |view| view.load = Some(counts));
            apps.push(task);
        }
    }
    apps
}

/// The log `container` of the Pod writes to (a container is always in its
/// Pod's logs; a detached one would only lose its lines).
fn log_of(launch: &Launch, container: &str) -> ContainerLog {
    launch
        .logs
        .container(container)
        .cloned()
        .unwrap_or_default()
}

/// Writes the Pod running; a meshed Pod is ready only once its proxy has
/// an identity, which is waited for (with a warning when it is late).
async fn report_ready(
    cluster: &ClusterRuntime,
    table: &PodTable,
    pod: &Pod,
    launch: &Launch,
    proxy: Option<&strait_proxy::RunningProxy>,
) {
    let (ns, name) = &launch.key;
    let ip = launch.ip;
    let ready_without_proxy = proxy.is_none();
    write_status(
        &cluster.store,
        ns,
        name,
        status::running(pod, ip, ready_without_proxy),
    )
    .await;
    table.lock().update(&launch.key, &launch.uid, |view| {
        view.ready = ready_without_proxy
    });
    if let Some(proxy) = proxy {
        let mut warned = false;
        while !proxy.wait_ready(READY_PATIENCE).await {
            if !warned {
                tracing::warn!(pod = %name, namespace = %ns, "the proxy has no identity yet; is the control plane's identity service reachable?");
                warned = true;
            }
        }
        write_status(&cluster.store, ns, name, status::running(pod, ip, true)).await;
        table
            .lock()
            .update(&launch.key, &launch.uid, |view| view.ready = true);
    }
}

fn proxy_config(
    cluster: &ClusterRuntime,
    launch: &Launch,
    direct: Vec<DirectInbound>,
) -> ProxyConfig {
    let (ns, name) = &launch.key;
    let ip = launch.ip;
    let workload = serde_json::json!({"ns": ns, "pod": name}).to_string();
    let control_plane = cluster.control_plane.to_string();
    ProxyConfig {
        inbound_listen_addr: SocketAddr::new(ip, INBOUND_PORT),
        inbound_direct: direct,
        outbound_listen_addr: SocketAddr::new(ip, OUTBOUND_PORT),
        admin_listen_addr: SocketAddr::new(ip, ADMIN_PORT),
        probe_listen_addr: None,
        identity: IdentityConfig {
            local_name: strait_mesh::names::identity_name(
                &launch.service_account,
                ns,
                &cluster.control_plane_namespace,
                &cluster.trust_domain,
            ),
            trust_anchors_pem: cluster.trust_anchors_pem.clone(),
            token: TokenConfig::Value(launch.token.clone().unwrap_or_default()),
            service_addr: control_plane.clone(),
            // The embedded control plane serves on loopback, in plaintext.
            service_name: None,
        },
        destination_addr: control_plane.clone(),
        destination_name: None,
        destination_context: workload.clone(),
        policy_addr: control_plane,
        policy_name: None,
        authz_plugin_digests: None,
        policy_workload: workload,
        gateway: launch.gateway,
        gateway_suffixes: vec![format!("svc.{}.", cluster.cluster_domain)],
        // As the injector configures a sidecar: this cluster's gateway is
        // taken at its word on who its clients are; a gateway trusts none.
        trusted_gateways: if launch.gateway {
            BTreeSet::new()
        } else {
            BTreeSet::from([strait_mesh::names::gateway_identity(
                &cluster.control_plane_namespace,
                &cluster.trust_domain,
            )])
        },
        metric_labels: launch.metric_labels.clone(),
        detect_timeout: Duration::from_secs(10),
        source_ip: Some(ip),
        metrics_retain_idle: strait_proxy::DEFAULT_RETAIN_IDLE,
        plugin_max_instances: strait_proxy::DEFAULT_PLUGIN_MAX_INSTANCES,
    }
}

/// Writes a Pod's status; a Pod deleted meanwhile is no error.
async fn write_status(store: &MemoryStore, ns: &str, name: &str, status: serde_json::Value) {
    match store.patch_status::<Pod>(ns, name, status).await {
        Ok(_) | Err(strait_store::StoreError::NotFound { .. }) => {}
        Err(err) => tracing::warn!(pod = %name, namespace = %ns, "cannot write status: {err}"),
    }
}

#[cfg(test)]
mod tests;
