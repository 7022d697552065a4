//! The controller loop of one Link.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Service};
use strait_api::key::Key;
use strait_api::labels;
use strait_api::link::{Link, reason};
use strait_backoff::Backoff;
use strait_decisions::export::ExportDecision;
use strait_plugin_host::ExportPlugin;
use strait_store::{ClusterStore, Event, StoreError, StoredObject, WatchParams};
use tokio::sync::watch;

use crate::config::LinkConfig;
use crate::desired::{
    FIELD_MANAGER, endpoints_are_current, gateway_endpoints, is_our_mirror, mirror_service,
    remote_service, service_is_current,
};
use crate::federated::Federation;
use crate::metrics::MirrorMetrics;
use crate::status::StatusBook;

/// How often the export plugin's version is checked, so a swapped plugin's
/// decisions are applied to every exported Service.
const PLUGIN_CHECK: Duration = Duration::from_millis(500);
/// One watch of the loop, as the store hands it out.
type Feed<K> = BoxStream<'static, Result<Event<K>, StoreError>>;

/// The watches the controller loop reads; each is replaced when it fails.
struct Watches {
    remote: Feed<Service>,
    mirrors: Feed<Service>,
    namespaces: Feed<Namespace>,
    remote_endpoints: Feed<Endpoints>,
}

/// Whether the gateway is alive, with what keeps that value coming: the
/// probe's task, or the sender of a value that never changes.
struct Liveness {
    _health: Option<crate::probe::GatewayHealth>,
    _always_alive: Option<watch::Sender<bool>>,
    alive: watch::Receiver<bool>,
}

/// First wait before trying an unreachable cluster again; it doubles with
/// each failure...
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// ...up to this longest wait between attempts: short,
/// so mirrors catch up within seconds of a target cluster's API coming
/// back (one watch attempt every few seconds costs that API nothing).
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The service mirror of one Link: `local` is this cluster, `remote` the
/// target cluster the Link points at.
pub struct ServiceMirror<L, R> {
    local: L,
    remote: R,
    link: LinkConfig,
    plugin: Arc<ExportPlugin>,
    remote_services: BTreeMap<Key, Service>,
    decisions: HashMap<Key, ExportDecision>,
    mirrors: BTreeMap<Key, Service>,
    missing_namespace: BTreeSet<Key>,
    status: StatusBook,
    plugin_digest: String,
    metrics: MirrorMetrics,
    /// The mode each mirrored Service is mirrored in, for the mirrors gauge.
    modes: HashMap<Key, &'static str>,
    /// Gateway mode: whether each remote Service has ready endpoints.
    remote_ready: HashMap<Key, bool>,
    /// Gateway mode: whether the gateway answers its probe.
    gateway_alive: bool,
    /// The remote Services' memberships of federated Services.
    federation: Federation,
    /// The target cluster's Endpoints of headless Services.
    remote_headless: crate::headless::RemoteHeadless,
}

/// A running mirror: dropping it (or calling [`MirrorHandle::stop`]) stops it.
pub struct MirrorHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl MirrorHandle {
    /// Stops the mirror and waits for it to finish its current step.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl<L: ClusterStore, R: ClusterStore> ServiceMirror<L, R> {
    /// A mirror for `link`, reading the Link's current status so that a
    /// restart rewrites nothing that is already right.
    pub async fn new(
        local: L,
        remote: R,
        link: &Link,
        plugin: Arc<ExportPlugin>,
    ) -> Result<Self, crate::LinkError> {
        let config = LinkConfig::from_link(link)?;
        let current: Option<Link> = local
            .get(&config.namespace, &config.name)
            .await
            .ok()
            .flatten();
        let status = StatusBook::from_status(current.as_ref().and_then(|l| l.status.as_ref()));
        let federation = Federation::new(current.as_ref().and_then(|l| l.status.as_ref()), &config);
        Ok(ServiceMirror {
            local,
            remote,
            plugin_digest: plugin.active().digest.clone(),
            plugin,
            link: config,
            remote_services: BTreeMap::new(),
            decisions: HashMap::new(),
            mirrors: BTreeMap::new(),
            missing_namespace: BTreeSet::new(),
            status,
            metrics: MirrorMetrics::default(),
            modes: HashMap::new(),
            remote_ready: HashMap::new(),
            gateway_alive: true,
            federation,
            remote_headless: Default::default(),
        })
    }

    /// Records into `metrics` (shared with the process's registry) instead of
    /// series of its own.
    pub fn with_metrics(mut self, metrics: MirrorMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Runs the mirror on the current tokio runtime until stopped.
    pub fn spawn(self) -> MirrorHandle {
        let (stop, stopped) = watch::channel(false);
        MirrorHandle {
            stop,
            task: tokio::spawn(self.run(stopped)),
        }
    }

    /// The controller loop: watch, reconcile, write status; until `stop` is set.
    /// Nothing is written until every watch has delivered its first state,
    /// so that a restart does not act on a partial view of either cluster.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut watches = self.open_watches();
        let mut federated = Federation::watch(&self.local);
        let mut liveness = self.gateway_liveness();
        let mut plugin_check = tokio::time::interval(PLUGIN_CHECK);
        let (mut remote_synced, mut mirrors_synced, mut started) = (false, false, false);
        let mut endpoints_synced = false;
        let mut backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                event = watches.mirrors.next() => {
                    mirrors_synced |= self.on_mirrors_event(event, &mut watches.mirrors);
                },
                event = watches.remote.next() => {
                    let changed = self.on_remote_event(event, &mut watches.remote, &mut backoff);
                    if let Some(changed) = changed {
                        remote_synced = true;
                        if started {
                            self.reconcile_each(changed).await;
                        }
                    }
                },
                event = watches.remote_endpoints.next() => {
                    let changed =
                        self.on_remote_endpoints_event(event, &mut watches.remote_endpoints, &backoff);
                    if let Some(changed) = changed {
                        endpoints_synced = true;
                        if started {
                            self.reconcile_each(changed).await;
                        }
                    }
                },
                event = federated.next() => match event {
                    Some(Ok(event)) => {
                        let members = self.federation.on_event(event, &self.link);
                        if started {
                            for key in members {
                                let remote = self.remote_services.get(&key);
                                self.federation.reconcile(&self.local, &self.link, &self.plugin, &key, remote).await;
                            }
                        }
                    }
                    Some(Err(err)) => tracing::warn!(link = %self.link.name, "federated services watch failed: {err}"),
                    None => federated = Federation::watch(&self.local),
                },
                event = watches.namespaces.next() => {
                    if let Some(Ok(Event::Apply(ns))) = event {
                        let ns = ns.metadata.name.unwrap_or_default();
                        let waiting: Vec<Key> = self.missing_namespace.iter().filter(|k| k.0 == ns).cloned().collect();
                        self.reconcile_each(waiting).await;
                    }
                },
                Ok(()) = liveness.alive.changed() => {
                    self.gateway_alive = *liveness.alive.borrow();
                    if started {
                        let through_gateway: Vec<Key> = self
                            .decisions
                            .iter()
                            .filter(|(_, d)| matches!(d, ExportDecision::Gateway(_)))
                            .map(|(k, _)| k.clone())
                            .collect();
                        self.reconcile_each(through_gateway).await;
                    }
                },
                _ = plugin_check.tick() => {
                    let digest = self.plugin.active().digest.clone();
                    if started && digest != self.plugin_digest {
                        tracing::info!(link = %self.link.name, "export plugin changed; re-evaluating every Service");
                        self.plugin_digest = digest;
                        self.reconcile_all().await;
                    }
                },
            }
            if !started
                && remote_synced
                && mirrors_synced
                && endpoints_synced
                && self.federation.synced()
            {
                started = true;
                self.collect_orphans().await;
                self.federation
                    .collect_orphans(&self.local, &self.link, &self.remote_services)
                    .await;
                self.reconcile_all().await;
            }
            if started {
                self.flush_status().await;
                self.federation.flush_status(&self.local, &self.link).await;
            }
        }
    }

    /// Opens the watches the loop reads: the target cluster's Services, this
    /// cluster's mirrors of them and its Namespaces, and the target
    /// cluster's Endpoints: in gateway mode a mirror's Endpoints are emptied
    /// while the remote Service has no ready endpoints, so clients fail
    /// fast, and a headless Service's hostnames make its per-pod mirrors.
    fn open_watches(&self) -> Watches {
        let remote = self.remote.watch::<Service>(WatchParams::all());
        let mirrors = self.watch_mirrors();
        let namespaces = self.local.watch::<Namespace>(WatchParams::all());
        let remote_endpoints = self.remote.watch::<Endpoints>(WatchParams::all());
        Watches {
            remote,
            mirrors,
            namespaces,
            remote_endpoints,
        }
    }

    /// This Link's mirror Services in this cluster, by their cluster label.
    fn watch_mirrors(&self) -> Feed<Service> {
        self.local.watch::<Service>(WatchParams::labelled(
            labels::MIRROR_CLUSTER_NAME,
            &self.link.target_cluster_name,
        ))
    }

    /// Gateway mode with a probe: the gateway's liveness decides whether
    /// mirror Endpoints list it as ready. Without a probe it is always alive.
    fn gateway_liveness(&self) -> Liveness {
        let probed = self
            .link
            .gateway
            .as_ref()
            .and_then(|g| Some((g.addresses.first()?.clone(), g.probe.clone()?)));
        match probed {
            Some((address, probe)) => {
                let health = crate::probe::spawn_probe(
                    self.link.name.clone(),
                    address,
                    probe,
                    self.metrics.clone(),
                );
                let alive = health.alive.clone();
                Liveness {
                    _health: Some(health),
                    _always_alive: None,
                    alive,
                }
            }
            None => {
                let (keep, alive) = crate::probe::always_alive();
                Liveness {
                    _health: None,
                    _always_alive: Some(keep),
                    alive,
                }
            }
        }
    }

    /// Takes one event of the mirrors watch, reopening the watch when it
    /// failed or ended; returns whether an event was taken.
    fn on_mirrors_event(
        &mut self,
        event: Option<Result<Event<Service>, StoreError>>,
        watch: &mut Feed<Service>,
    ) -> bool {
        match event {
            Some(Ok(event)) => {
                self.on_mirror(event);
                return true;
            }
            Some(Err(err)) => {
                tracing::warn!(link = %self.link.name, "local watch failed: {err}");
            }
            None => {}
        }
        self.metrics.restart(&self.link.name, "local");
        *watch = self.watch_mirrors();
        false
    }

    /// Takes one event of the target cluster's Services watch; returns the
    /// Services to reconcile, or `None` when the watch failed or ended (it
    /// is reopened, after a growing wait while the cluster is unreachable).
    fn on_remote_event(
        &mut self,
        event: Option<Result<Event<Service>, StoreError>>,
        watch: &mut Feed<Service>,
        backoff: &mut Backoff,
    ) -> Option<Vec<Key>> {
        match event {
            Some(Ok(event)) => {
                backoff.reset();
                return Some(self.on_remote(event));
            }
            Some(Err(err)) => {
                let wait = backoff.next_delay();
                tracing::warn!(
                    link = %self.link.name,
                    cluster = %self.link.target_cluster_name,
                    "target cluster unreachable, mirrors left as they are; retrying in {wait:?}: {err}"
                );
                self.metrics.restart(&self.link.name, "remote");
                // Waiting inside the watch keeps this loop serving
                // stops, local events and the plugin meanwhile.
                *watch = watch_after(&self.remote, wait);
            }
            None => {
                self.metrics.restart(&self.link.name, "remote");
                *watch = self.remote.watch(WatchParams::all());
            }
        }
        None
    }

    /// Takes one event of the target cluster's Endpoints watch (gateway
    /// mode); returns the Services to reconcile, or `None` when the watch
    /// failed or ended and was reopened, at the Services watch's pace.
    fn on_remote_endpoints_event(
        &mut self,
        event: Option<Result<Event<Endpoints>, StoreError>>,
        watch: &mut Feed<Endpoints>,
        backoff: &Backoff,
    ) -> Option<Vec<Key>> {
        match event {
            Some(Ok(event)) => return Some(self.on_remote_endpoints(event)),
            Some(Err(err)) => {
                tracing::warn!(link = %self.link.name, "remote endpoints watch failed: {err}");
                self.metrics.restart(&self.link.name, "remote");
                *watch = watch_after(&self.remote, backoff.peek());
            }
            None => *watch = self.remote.watch(WatchParams::all()),
        }
        None
    }

    /// Reconciles each of `keys`, in order.
    async fn reconcile_each(&mut self, keys: Vec<Key>) {
        for key in keys {
            self.reconcile(&key).await;
        }
    }

    fn on_mirror(&mut self, event: Event<Service>) {
        let key = |s: &Service| {
            (
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name.clone().unwrap_or_default(),
            )
        };
        match event {
            Event::Reset(all) => self.mirrors = all.into_iter().map(|s| (key(&s), s)).collect(),
            Event::Apply(s) => {
                self.mirrors.insert(key(&s), s);
            }
            Event::Delete(s) => {
                self.mirrors.remove(&key(&s));
            }
        }
    }

    /// Updates the view of the target cluster; returns the Services to reconcile.
    fn on_remote(&mut self, event: Event<Service>) -> Vec<Key> {
        let key = |s: &Service| {
            (
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name.clone().unwrap_or_default(),
            )
        };
        match event {
            Event::Reset(all) => {
                let before: BTreeSet<Key> = self.remote_services.keys().cloned().collect();
                self.remote_services = all.into_iter().map(|s| (key(&s), s)).collect();
                before
                    .into_iter()
                    .chain(self.remote_services.keys().cloned())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            }
            Event::Apply(s) => {
                let k = key(&s);
                self.remote_services.insert(k.clone(), s);
                vec![k]
            }
            Event::Delete(s) => {
                let k = key(&s);
                self.remote_services.remove(&k);
                vec![k]
            }
        }
    }

    /// Tracks which remote Services have ready endpoints, and headless
    /// Services' endpoints; returns those whose readiness or headless
    /// endpoints changed.
    fn on_remote_endpoints(&mut self, event: Event<Endpoints>) -> Vec<Key> {
        let mut changed = self.remote_headless.take(&event);
        let key = |e: &Endpoints| {
            (
                e.metadata.namespace.clone().unwrap_or_default(),
                e.metadata.name.clone().unwrap_or_default(),
            )
        };
        let ready = |e: &Endpoints| {
            e.subsets
                .iter()
                .flatten()
                .any(|s| s.addresses.as_ref().is_some_and(|a| !a.is_empty()))
        };
        let updates: Vec<(Key, bool)> = match event {
            Event::Reset(all) => {
                let mut updates: Vec<(Key, bool)> = self
                    .remote_ready
                    .keys()
                    .map(|k| (k.clone(), false))
                    .collect();
                updates.extend(all.iter().map(|e| (key(e), ready(e))));
                updates
            }
            Event::Apply(e) => vec![(key(&e), ready(&e))],
            Event::Delete(e) => vec![(key(&e), false)],
        };
        for (k, is_ready) in updates {
            if self.remote_ready.get(&k).copied().unwrap_or(false) != is_ready {
                changed.push(k.clone());
            }
            if is_ready {
                self.remote_ready.insert(k, true);
            } else {
                self.remote_ready.remove(&k);
            }
        }
        changed.sort();
        changed.dedup();
        changed
    }

    async fn reconcile_all(&mut self) {
        let keys: Vec<Key> = self.remote_services.keys().cloned().collect();
        for key in keys {
            self.reconcile(&key).await;
        }
    }

    /// Brings the mirror of one remote Service in line with the plugin's decision.
    async fn reconcile(&mut self, key: &Key) {
        let remote = self.remote_services.get(key);
        self.federation
            .reconcile(&self.local, &self.link, &self.plugin, key, remote)
            .await;
        let Some(remote) = self.remote_services.get(key).cloned() else {
            self.unmirror(key).await;
            return;
        };
        let verdict = self.plugin.decide(
            &remote_service(&remote),
            &self.link.export,
            self.decisions.get(key),
        );
        self.metrics.decision(
            &self.link.name,
            mode_of(&verdict.decision),
            verdict.outcome.as_str(),
        );
        self.decisions.insert(key.clone(), verdict.decision.clone());
        let Some(mut desired) = mirror_service(&remote, &self.link, &verdict.decision) else {
            self.unmirror(key).await;
            return;
        };
        let local_key = (key.0.clone(), self.link.mirror_name(&key.1));
        let existing = self.mirrors.get(&local_key);
        crate::headless::shape(
            &mut desired,
            &remote,
            self.remote_headless.get(key),
            existing,
        );
        if existing.is_some_and(|e| crate::headless::must_replace(e, &desired)) {
            self.replace_mirror(&local_key).await;
        }
        let current = self
            .mirrors
            .get(&local_key)
            .is_some_and(|c| service_is_current(c, &desired));
        if !current {
            match self.local.apply(&desired, FIELD_MANAGER).await {
                Ok(stored) => {
                    self.missing_namespace.remove(key);
                    self.mirrors.insert(local_key.clone(), stored);
                }
                Err(StoreError::NotFound { what }) if what.starts_with("namespaces") => {
                    self.metrics
                        .error(&self.link.name, reason::MISSING_NAMESPACE);
                    self.set_mode(key, None);
                    if self.missing_namespace.insert(key.clone()) {
                        self.record_missing_namespace(&remote).await;
                    }
                    self.status.set(
                        key,
                        false,
                        reason::MISSING_NAMESPACE,
                        format!("namespace {} does not exist in this cluster; the mirror is created when it does", key.0),
                        None,
                    );
                    return;
                }
                Err(err) => {
                    tracing::warn!(link = %self.link.name, service = %format!("{}/{}", key.0, key.1), "cannot write mirror: {err}");
                    self.metrics.error(&self.link.name, reason::ERROR);
                    self.status
                        .set(key, false, reason::ERROR, err.to_string(), None);
                    return;
                }
            }
        }
        if let Err(err) = self
            .reconcile_endpoints(key, &desired, &verdict.decision)
            .await
        {
            self.metrics.error(&self.link.name, reason::ERROR);
            self.status
                .set(key, false, reason::ERROR, err.to_string(), Some(local_key));
            return;
        }
        self.set_mode(key, Some(mode_of(&verdict.decision)));
        self.status
            .set(key, true, reason::MIRRORED, String::new(), Some(local_key));
    }

    /// Gateway mode: Endpoints to the gateway. Remote discovery: none (a
    /// stale set from an earlier gateway-mode mirror is removed).
    async fn reconcile_endpoints(
        &mut self,
        key: &Key,
        mirror: &Service,
        decision: &ExportDecision,
    ) -> Result<(), StoreError> {
        let ns = mirror.metadata.namespace.clone().unwrap_or_default();
        let name = mirror.metadata.name.clone().unwrap_or_default();
        let pod_mirrors = self.pod_mirrors_of(&(ns.clone(), name.clone()));
        if strait_api::service::is_headless(mirror) {
            let reach = match (decision, &self.link.gateway) {
                (ExportDecision::Gateway(_), Some(gateway)) => {
                    crate::headless::Reach::Gateway(gateway, self.gateway_alive)
                }
                _ => crate::headless::Reach::RemoteDiscovery,
            };
            let remote = self.remote_headless.get(key);
            return crate::headless::reconcile(
                &self.local,
                &self.link,
                mirror,
                &key.1,
                remote,
                &pod_mirrors,
                reach,
            )
            .await;
        }
        crate::headless::remove_pod_mirrors(&self.local, &pod_mirrors).await?;
        let existing: Option<Endpoints> = self.local.get(&ns, &name).await?;
        match (decision, &self.link.gateway) {
            (ExportDecision::Gateway(_), Some(gateway)) => {
                let ready = self.remote_ready.get(key).copied().unwrap_or(false);
                let desired = gateway_endpoints(mirror, gateway, ready, self.gateway_alive);
                if !existing.is_some_and(|e| endpoints_are_current(&e, &desired)) {
                    self.local.apply(&desired, FIELD_MANAGER).await?;
                }
            }
            _ => {
                if existing.is_some_and(|e| is_ours(&e)) {
                    self.local.delete::<Endpoints>(&ns, &name).await?;
                }
            }
        }
        Ok(())
    }

    /// Removes the mirror of a remote Service that went away or is no longer
    /// exported; only a Service whose labels say it is this Link's mirror.
    async fn unmirror(&mut self, key: &Key) {
        self.set_mode(key, None);
        self.decisions.remove(key);
        self.status.remove(key);
        self.missing_namespace.remove(key);
        let local_key = (key.0.clone(), self.link.mirror_name(&key.1));
        let Some(mirror) = self.mirrors.get(&local_key) else {
            return;
        };
        if !is_our_mirror(mirror, &self.link) {
            return;
        }
        let pod_mirrors = self.pod_mirrors_of(&local_key);
        if let Err(err) = crate::headless::remove_pod_mirrors(&self.local, &pod_mirrors).await {
            tracing::warn!(link = %self.link.name, "cannot delete the per-pod mirrors of {}/{}: {err}", local_key.0, local_key.1);
        }
        match self
            .local
            .delete::<Service>(&local_key.0, &local_key.1)
            .await
        {
            Ok(()) | Err(StoreError::NotFound { .. }) => {
                self.mirrors.remove(&local_key);
            }
            Err(err) => {
                tracing::warn!(link = %self.link.name, "cannot delete mirror {}/{}: {err}", local_key.0, local_key.1)
            }
        }
        if let Ok(Some(endpoints)) = self
            .local
            .get::<Endpoints>(&local_key.0, &local_key.1)
            .await
            && is_ours(&endpoints)
        {
            let _ = self
                .local
                .delete::<Endpoints>(&local_key.0, &local_key.1)
                .await;
        }
    }

    /// This Link's per-pod mirrors of headless mirror `mirror`.
    fn pod_mirrors_of(&self, mirror: &Key) -> Vec<Service> {
        self.mirrors
            .iter()
            .filter(|((ns, _), svc)| {
                *ns == mirror.0 && crate::headless::is_pod_mirror_of(svc, &mirror.1)
            })
            .map(|(_, svc)| svc.clone())
            .collect()
    }

    /// Deletes mirror `local_key` so it is made anew (its ClusterIP cannot
    /// change in place).
    async fn replace_mirror(&mut self, local_key: &Key) {
        match self
            .local
            .delete::<Service>(&local_key.0, &local_key.1)
            .await
        {
            Ok(()) | Err(StoreError::NotFound { .. }) => {
                self.mirrors.remove(local_key);
            }
            Err(err) => {
                tracing::warn!(link = %self.link.name, "cannot replace mirror {}/{}: {err}", local_key.0, local_key.1)
            }
        }
    }

    /// Deletes mirrors whose remote Service no longer exists (left behind
    /// while the controller was not running).
    async fn collect_orphans(&mut self) {
        let orphans: Vec<Key> = self
            .mirrors
            .iter()
            .filter(|(_, svc)| is_our_mirror(svc, &self.link))
            .filter(|(_, svc)| !crate::headless::is_pod_mirror(svc))
            .filter_map(|(_, svc)| remote_of(svc))
            .filter(|remote| !self.remote_services.contains_key(remote))
            .collect();
        for remote in orphans {
            tracing::info!(link = %self.link.name, "collecting orphaned mirror of {}/{}", remote.0, remote.1);
            self.unmirror(&remote).await;
        }
    }

    /// Tells the remote Service's owners, where they look (an Event on their
    /// Service), that its mirror waits for a namespace here. Best effort: a
    /// target that refuses events does not stop the mirror.
    async fn record_missing_namespace(&self, remote: &Service) {
        let event = crate::desired::missing_namespace_event(remote, &self.link);
        if let Err(err) = self.remote.apply(&event, FIELD_MANAGER).await {
            tracing::debug!(link = %self.link.name, "cannot record the MissingNamespace event: {err}");
        }
    }

    /// Keeps the mirrors gauge in step with what is mirrored, and how.
    fn set_mode(&mut self, key: &Key, mode: Option<&'static str>) {
        let old = match mode {
            Some(mode) => self.modes.insert(key.clone(), mode),
            None => self.modes.remove(key),
        };
        if old != mode {
            if let Some(old) = old {
                self.metrics.mirrored(&self.link.name, old, -1);
            }
            if let Some(mode) = mode {
                self.metrics.mirrored(&self.link.name, mode, 1);
            }
        }
    }

    async fn flush_status(&mut self) {
        let Some(entries) = self.status.pending() else {
            return;
        };
        let patch = serde_json::json!({ "mirrorServices": entries });
        match self
            .local
            .patch_status::<Link>(&self.link.namespace, &self.link.name, patch)
            .await
        {
            Ok(_) => self.status.written(entries),
            Err(err) => tracing::warn!(link = %self.link.name, "cannot write link status: {err}"),
        }
    }
}

/// The `mode`/`decision` label of a decision.
fn mode_of(decision: &ExportDecision) -> &'static str {
    match decision {
        ExportDecision::NotExported(_) => "not-exported",
        ExportDecision::Gateway(_) => "gateway",
        ExportDecision::RemoteDiscovery(_) => "remote-discovery",
    }
}

fn is_ours(endpoints: &Endpoints) -> bool {
    endpoints
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::MIRRORED_SERVICE))
        .map(String::as_str)
        == Some("true")
}

/// The remote Service a mirror stands for, from its fully qualified name.
fn remote_of(mirror: &Service) -> Option<Key> {
    let fq = mirror
        .metadata
        .annotations
        .as_ref()?
        .get(labels::REMOTE_SVC_FQ_NAME)?;
    let mut parts = fq.split('.');
    let name = parts.next()?.to_string();
    let namespace = parts.next()?.to_string();
    Some((namespace, name))
}

/// A watch of every object of kind `K` in `store` that opens after
/// `delay`: a retry with backoff that does not hold up the caller's loop.
fn watch_after<S: ClusterStore, K: StoredObject>(store: &S, delay: Duration) -> Feed<K> {
    let store = store.clone();
    futures::stream::once(tokio::time::sleep(delay))
        .map(move |()| store.watch::<K>(WatchParams::all()))
        .flatten()
        .boxed()
}
