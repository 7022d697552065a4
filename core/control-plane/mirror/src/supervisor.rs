//! Keeps one Link's mirror running: starts it when the Link appears, restarts
//! it when the Link's spec changes, stops it (leaving the mirrors in place, as
//! Linkerd does) when the Link is deleted; its cluster's members then leave
//! the federated Services. Beside it runs the controller of this cluster's own
//! federated members.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use strait_api::link::{Link, LinkSpec};
use strait_plugin_host::ExportPlugin;
use strait_store::{
    ClusterStore, Event, EventRecorder, INVALID_CREDENTIALS, MemoryStore, StoreError, WatchParams,
    report_invalid_credentials,
};
use tokio::sync::watch;

use crate::config::{LinkConfig, LinkError};
use crate::controller::{MirrorHandle, ServiceMirror};
use crate::metrics::MirrorMetrics;

/// How long to wait before connecting again to a target cluster that could
/// not be reached (or whose credentials were refused).
const RECONNECT: Duration = Duration::from_secs(5);

/// Supervises the mirror of the Link `namespace/name` in `local` until `stop`
/// is set. `connect` reaches the Link's target cluster: through its
/// credentials Secret on Kubernetes, by name for embedded clusters.
pub async fn supervise_link<L, R, C, Fut>(
    local: L,
    namespace: String,
    name: String,
    connect: C,
    plugin: Arc<ExportPlugin>,
    metrics: MirrorMetrics,
    mut stop: watch::Receiver<bool>,
) where
    L: ClusterStore,
    R: ClusterStore,
    C: Fn(Link) -> Fut,
    Fut: Future<Output = Result<R, StoreError>>,
{
    let mut links = local.watch::<Link>(WatchParams {
        namespace: Some(namespace.clone()),
        ..WatchParams::all()
    });
    let mut running: Option<(LinkSpec, MirrorHandle)> = None;
    let mut pending: Option<Link> = None;
    // What was reported about the Link, so each fault is said once.
    let mut events = EventRecorder::new(EVENT_COMPONENT);
    let mut retry = tokio::time::interval(RECONNECT);
    // This cluster's own members of federated Services, for as long as a
    // Link is supervised.
    let local_federation = tokio::spawn(crate::federated::local::run_local_federation(
        local.clone(),
        stop.clone(),
    ));
    let mut target: Option<String> = None;
    loop {
        let wanted: Option<Option<Link>> = tokio::select! {
            _ = stop.changed() => break,
            event = links.next() => match event {
                Some(Ok(Event::Reset(all))) => Some(all.into_iter().find(|l| l.metadata.name.as_deref() == Some(name.as_str()))),
                Some(Ok(Event::Apply(link))) if link.metadata.name.as_deref() == Some(name.as_str()) => Some(Some(link)),
                Some(Ok(Event::Delete(link))) if link.metadata.name.as_deref() == Some(name.as_str()) => Some(None),
                Some(Ok(_)) => None,
                Some(Err(err)) => {
                    tracing::warn!(link = %name, "link watch failed: {err}");
                    None
                }
                None => {
                    links = local.watch(WatchParams { namespace: Some(namespace.clone()), ..WatchParams::all() });
                    None
                }
            },
            _ = retry.tick(), if pending.is_some() => Some(pending.take()),
        };
        let Some(wanted) = wanted else { continue };
        match wanted {
            None => {
                if let Some((_, handle)) = running.take() {
                    tracing::info!(link = %name, "link deleted; mirror stopped, mirrors left in place");
                    handle.stop().await;
                }
                // Its cluster's members leave the federated Services: their
                // endpoints can no longer be followed.
                if let Some(cluster) = target.take() {
                    crate::federated::leave_cluster(&local, &cluster).await;
                }
                pending = None;
                // A Link made again is told its faults again.
                events = EventRecorder::new(EVENT_COMPONENT);
            }
            Some(link) => {
                if running.as_ref().is_some_and(|(spec, _)| *spec == link.spec) {
                    continue;
                }
                if let Some((_, handle)) = running.take() {
                    tracing::info!(link = %name, "link spec changed; restarting its mirror");
                    handle.stop().await;
                }
                // A Link the mirror cannot read is reported once, naming the
                // field, and waited on: only a change to it can fix it.
                if let Err(err) = LinkConfig::from_link(&link) {
                    let message = err.to_string();
                    if events.warn(&local, &link, INVALID_LINK, &message).await {
                        tracing::warn!(link = %name, "cannot mirror until the Link is fixed: {message}");
                    }
                    pending = None;
                    continue;
                }
                events.forget(&link, INVALID_LINK);
                target = link.spec.target_cluster_name.clone();
                match start(&local, &link, &connect, &plugin, &metrics).await {
                    Ok(handle) => {
                        events.forget(&link, INVALID_CREDENTIALS);
                        running = Some((link.spec.clone(), handle));
                    }
                    Err(err) => {
                        // Credentials refused as written are told on the
                        // Link once, however often they are retried.
                        if let StartError::Connect(error) = &err {
                            report_invalid_credentials(&mut events, &local, &link, error).await;
                        }
                        tracing::warn!(link = %name, "cannot start the mirror, retrying in {RECONNECT:?}: {err}");
                        pending = Some(link);
                    }
                }
            }
        }
    }
    if let Some((_, handle)) = running.take() {
        handle.stop().await;
    }
    let _ = local_federation.await;
}

/// The reason of the Event a Link the mirror cannot read gets.
pub const INVALID_LINK: &str = "InvalidLink";

/// The component the service mirror's Events name as their source.
pub const EVENT_COMPONENT: &str = "strait-service-mirror";

/// Why a Link's mirror did not start; it is retried.
#[derive(Debug, thiserror::Error)]
enum StartError {
    /// The target cluster could not be reached, or refused the credentials.
    #[error("reaching the target cluster: {0}")]
    Connect(#[source] StoreError),
    /// The Link cannot drive a mirror.
    #[error(transparent)]
    Link(#[from] LinkError),
}

async fn start<L, R, C, Fut>(
    local: &L,
    link: &Link,
    connect: &C,
    plugin: &Arc<ExportPlugin>,
    metrics: &MirrorMetrics,
) -> Result<MirrorHandle, StartError>
where
    L: ClusterStore,
    R: ClusterStore,
    C: Fn(Link) -> Fut,
    Fut: Future<Output = Result<R, StoreError>>,
{
    let remote = connect(link.clone()).await.map_err(StartError::Connect)?;
    let mirror = ServiceMirror::new(local.clone(), remote, link, plugin.clone()).await?;
    Ok(mirror.with_metrics(metrics.clone()).spawn())
}

/// How embedded clusters (`strait local`) reach each other: by the Link's
/// `targetClusterName`, among the clusters of the process.
pub fn connect_embedded(
    clusters: Arc<BTreeMap<String, MemoryStore>>,
) -> impl Fn(Link) -> std::future::Ready<Result<MemoryStore, StoreError>> {
    move |link: Link| {
        let target = link.spec.target_cluster_name.clone().unwrap_or_default();
        std::future::ready(
            clusters
                .get(&target)
                .cloned()
                .ok_or_else(|| StoreError::NotFound {
                    what: format!(
                        "cluster {target:?} (the target of link {}); known clusters: {}",
                        link.metadata.name.as_deref().unwrap_or(""),
                        clusters.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                }),
        )
    }
}
