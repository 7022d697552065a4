//! The service mirror of one Link, as a controller runs it.
//!
//! [`LinkMirror`] is the mirror supervised over its Link (started when the
//! Link appears, restarted when its spec changes, stopped when it is
//! deleted), either at once ([`LinkMirror::run`], the one replica of an
//! embedded cluster) or under the Link's Lease ([`LinkMirror::run_elected`],
//! replicas on Kubernetes, with the `service_mirror_leader` gauge
//! following the term). [`service_mirror`] is the whole controller of
//! `strait controller service-mirror`: its export plugin followed from the
//! plugins ConfigMap, its metrics on the admin endpoint, and the Lease
//! released on shutdown so another replica takes over at once.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use prometheus_client::registry::Registry;
use strait_api::link::Link;
use strait_mirror::leader::{Elector, LeaseConfig, while_leading};
use strait_mirror::{MirrorMetrics, supervise_link};
use strait_plugin_config::PluginSinks;
use strait_plugin_host::{ExportPlugin, HostConfig, PluginHost, PluginMetrics};
use strait_store::{ClusterStore, StoreError};
use tokio::sync::watch;

use crate::RuntimeError;
use crate::controller::serve_admin;
use crate::credentials::connect_link;
use crate::plugins::{PluginsConfigMap, builtin_export, export_slot, load_export_plugins};
use crate::task::Scoped;

/// The service mirror of Link `namespace/link` in `local`, reaching the
/// target with `connect`, deciding with `plugin`, counting in `metrics`.
pub struct LinkMirror<L, C> {
    local: L,
    namespace: String,
    link: String,
    connect: C,
    plugin: Arc<ExportPlugin>,
    metrics: MirrorMetrics,
}

impl<L, C> std::fmt::Debug for LinkMirror<L, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkMirror")
            .field("namespace", &self.namespace)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl<L, R, C, Fut> LinkMirror<L, C>
where
    L: ClusterStore,
    R: ClusterStore,
    C: Fn(Link) -> Fut + Clone,
    Fut: Future<Output = Result<R, StoreError>>,
{
    /// The mirror of Link `link` in `namespace`. `connect` reaches the
    /// Link's target ([`connect_link`] over the Link's credentials Secret);
    /// `plugin` is the export slot every mirror of the cluster shares.
    pub fn new(
        local: L,
        namespace: impl Into<String>,
        link: impl Into<String>,
        connect: C,
        plugin: Arc<ExportPlugin>,
        metrics: MirrorMetrics,
    ) -> Self {
        LinkMirror {
            local,
            namespace: namespace.into(),
            link: link.into(),
            connect,
            plugin,
            metrics,
        }
    }

    /// Mirrors until `stop` is set, with no election: for a mirror that
    /// has no other replica.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        self.supervise(stop).await;
    }

    /// Mirrors only while holding `lease`, until `stop` is set, then
    /// releases the Lease so another replica takes over at once; standing
    /// by meanwhile. `service_mirror_leader{link}` says which it is. An
    /// unsafe `lease` is an error before anything starts.
    pub async fn run_elected(
        self,
        lease: LeaseConfig,
        stop: watch::Receiver<bool>,
    ) -> Result<(), RuntimeError> {
        let elector = Elector::new(self.local.clone(), lease)
            .map_err(|reason| RuntimeError::Lease { reason })?;
        let leadership = elector.spawn();
        // Ends by itself when the election does, saying "not leading".
        tokio::spawn(follow_leadership(
            leadership.watch(),
            self.metrics.clone(),
            self.link.clone(),
        ));
        while_leading(leadership.watch(), stop, |term_stop| {
            tracing::info!(link = %self.link, "leading: mirroring");
            self.supervise(term_stop)
        })
        .await;
        leadership.release().await;
        Ok(())
    }

    fn supervise(
        &self,
        stop: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + use<L, R, C, Fut> {
        supervise_link(
            self.local.clone(),
            self.namespace.clone(),
            self.link.clone(),
            self.connect.clone(),
            self.plugin.clone(),
            self.metrics.clone(),
            stop,
        )
    }
}

/// Keeps `service_mirror_leader{link}` equal to `leading`, and 0 once the
/// election has ended.
async fn follow_leadership(
    mut leading: watch::Receiver<bool>,
    metrics: MirrorMetrics,
    link: String,
) {
    loop {
        let now = *leading.borrow_and_update();
        metrics.set_leader(&link, now);
        if leading.changed().await.is_err() {
            metrics.set_leader(&link, false);
            return;
        }
    }
}

/// The service-mirror controller of one Link: which Link, as whom in its
/// Lease, where its admin endpoint serves, and where new export plugins
/// come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorController {
    /// The Link's namespace (the multicluster extension's); its
    /// credentials Secret and the Lease are there too.
    pub namespace: String,
    /// The Link's name.
    pub link: String,
    /// This replica's name in the Lease (on Kubernetes, the pod's).
    pub holder_identity: String,
    /// Where `/metrics`, `/ready` and `/live` are served.
    pub admin_addr: SocketAddr,
    /// The plugins ConfigMap followed for export plugins.
    pub plugins: PluginsConfigMap,
}

/// Runs the service mirror of `controller.link` in `local`, elected among
/// its replicas by the Link's Lease, reaching the target through the
/// Link's credentials Secret turned into a store by `reach`, until
/// `shutdown` resolves; then stops mirroring and releases the Lease.
///
/// Every replica follows the plugins ConfigMap, so a replica that becomes
/// leader already runs the newest good export plugin. The admin endpoint
/// serves the plugin host's and the mirror's metrics
/// (`service_mirror_leader` among them).
pub async fn service_mirror<L, R, C, F>(
    local: L,
    reach: C,
    controller: MirrorController,
    shutdown: F,
) -> Result<(), RuntimeError>
where
    L: ClusterStore,
    R: ClusterStore,
    C: Fn(&Secret) -> Result<R, StoreError> + Clone + Send + Sync + 'static,
    F: Future<Output = ()>,
{
    let MirrorController {
        namespace,
        link,
        holder_identity,
        admin_addr,
        plugins,
    } = controller;
    let lease = LeaseConfig::for_link(&namespace, &link, &holder_identity);
    lease
        .validate()
        .map_err(|reason| RuntimeError::Lease { reason })?;
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new())?;
    let export = export_slot(&host, &builtin_export().read()?)?;
    let sinks = PluginSinks {
        authz: None,
        export: Some(load_export_plugins(&export)),
    };
    let _follower = plugins.follow(local.clone(), &host, sinks).map(Scoped::new);
    let metrics = MirrorMetrics::default();
    metrics.set_leader(&link, false);
    let mut registry = Registry::default();
    host.metrics().register(&mut registry);
    metrics.register(&mut registry);
    let _admin = serve_admin(admin_addr, registry).await?;
    tracing::info!(link = %link, namespace = %namespace, identity = %holder_identity, "service mirror starting");
    let connect = connect_link(local.clone(), reach);
    let mirror = LinkMirror::new(local, namespace, link, connect, export, metrics);
    let (stop, stopped) = watch::channel(false);
    let mirroring = mirror.run_elected(lease, stopped);
    tokio::pin!(mirroring, shutdown);
    tokio::select! {
        result = &mut mirroring => return result,
        () = &mut shutdown => {}
    }
    // Stop mirroring, then release the Lease, so another replica takes
    // over at once.
    stop.send_replace(true);
    mirroring.await
}

#[cfg(test)]
mod tests;
