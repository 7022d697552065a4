//! Learning the linked clusters from the local cluster's credentials
//! Secrets, and feeding each into the index.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use strait_api::labels;
use strait_backoff::Backoff;
use strait_destination::ClusterConfig;
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, WatchParams};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::feed::{REWATCH_BACKOFF, feed_cluster};
use crate::shared::SharedClusters;

/// The first wait before connecting again to a cluster that could not be
/// reached (or whose credentials were refused); it doubles with each
/// failure...
pub const RECONNECT_BACKOFF_MIN: Duration = Duration::from_secs(1);

/// ...up to this, so a cluster that comes back is noticed within seconds
/// (an attempt every few seconds is no load on one that stays away).
pub const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// The waits between attempts to reach a cluster.
const RECONNECT_BACKOFF: Backoff = Backoff::new(RECONNECT_BACKOFF_MIN, RECONNECT_BACKOFF_MAX);

/// The configuration of the cluster a credentials Secret reaches: its trust
/// domain and cluster domain from the Secret's annotations (written by
/// `link-gen`), defaulting to ours when absent or empty; the control-plane
/// namespace is ours, since Linkerd installs it under the same name in
/// every linked cluster. Remote pods' identities are spelled from it.
pub fn remote_config(secret: &Secret, local: &ClusterConfig) -> ClusterConfig {
    let annotation = |key: &str| {
        secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(|v| v.trim().trim_end_matches('.'))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    ClusterConfig {
        cluster_domain: annotation(labels::CLUSTER_DOMAIN)
            .unwrap_or_else(|| local.cluster_domain.clone()),
        control_plane_namespace: local.control_plane_namespace.clone(),
        trust_domain: annotation(labels::TRUST_DOMAIN)
            .unwrap_or_else(|| local.trust_domain.clone()),
    }
}

/// How embedded clusters (`strait local`) reach each other: by the
/// credentials Secret's cluster name, among the clusters of the process.
pub fn connect_embedded(
    clusters: Arc<BTreeMap<String, MemoryStore>>,
) -> impl Fn(Secret) -> std::future::Ready<Result<MemoryStore, StoreError>> {
    move |secret: Secret| {
        let target = cluster_name(&secret).unwrap_or_default();
        std::future::ready(
            clusters
                .get(&target)
                .cloned()
                .ok_or_else(|| StoreError::NotFound {
                    what: format!(
                        "cluster {target:?} (named by secret {}); known clusters: {}",
                        secret.metadata.name.as_deref().unwrap_or(""),
                        clusters.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                }),
        )
    }
}

/// The remote cluster a credentials Secret names, if it is one.
fn cluster_name(secret: &Secret) -> Option<String> {
    secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::CLUSTER_NAME))
        .filter(|name| !name.is_empty())
        .cloned()
}

/// What of a Secret decides the connection and the configuration: when it
/// is unchanged, an update of the Secret (new resourceVersion, other
/// labels) leaves the running feed alone.
#[derive(Clone, Debug, PartialEq)]
struct Fingerprint {
    cluster: String,
    config: ClusterConfig,
    type_: Option<String>,
    data: Option<BTreeMap<String, ByteString>>,
    string_data: Option<BTreeMap<String, String>>,
}

impl Fingerprint {
    fn of(secret: &Secret, cluster: String, config: ClusterConfig) -> Self {
        Fingerprint {
            cluster,
            config,
            type_: secret.type_.clone(),
            data: secret.data.clone(),
            string_data: secret.string_data.clone(),
        }
    }
}

/// A running feed, stopped when dropped so that no feed outlives the
/// follower that started it.
struct Feed(JoinHandle<()>);

impl Feed {
    /// Stops the feed and waits until it can write no more, so a feed that
    /// replaces it never races with its last event.
    async fn stop(mut self) {
        self.0.abort();
        let _ = (&mut self.0).await;
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A linked cluster being fed.
struct Linked {
    fingerprint: Fingerprint,
    feed: Feed,
}

/// A Secret whose cluster could not be reached yet.
struct Pending {
    secret: Secret,
    backoff: Backoff,
    due: Instant,
}

/// Every credentials Secret seen, by Secret name.
struct Follower<C> {
    namespace: String,
    local_config: ClusterConfig,
    connect: C,
    index: SharedClusters,
    linked: BTreeMap<String, Linked>,
    pending: BTreeMap<String, Pending>,
}

impl<C, Fut, R> Follower<C>
where
    C: Fn(Secret) -> Fut,
    Fut: Future<Output = Result<R, StoreError>>,
    R: ClusterStore,
{
    async fn handle(&mut self, event: Event<Secret>) {
        match event {
            Event::Reset(secrets) => {
                let present: Vec<String> = secrets
                    .iter()
                    .filter(|s| cluster_name(s).is_some())
                    .filter_map(|s| s.metadata.name.clone())
                    .collect();
                let known: Vec<String> = self
                    .linked
                    .keys()
                    .chain(self.pending.keys())
                    .filter(|name| !present.contains(name))
                    .cloned()
                    .collect();
                for name in known {
                    self.unlink(&name).await;
                }
                for secret in secrets {
                    self.apply(secret).await;
                }
            }
            Event::Apply(secret) => self.apply(secret).await,
            Event::Delete(secret) => {
                let name = secret.metadata.name.clone().unwrap_or_default();
                self.unlink(&name).await;
            }
        }
    }

    /// A Secret appeared or changed: link its cluster unless it is already
    /// linked with the same credentials and configuration.
    async fn apply(&mut self, secret: Secret) {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let Some(cluster) = cluster_name(&secret) else {
            // Not (or no longer) a credentials Secret.
            self.unlink(&name).await;
            return;
        };
        if secret.type_.as_deref() != Some(labels::REMOTE_KUBECONFIG_SECRET_TYPE) {
            tracing::warn!(
                secret = %name,
                %cluster,
                type_ = secret.type_.as_deref().unwrap_or(""),
                "credentials secret ignored: its type must be {}",
                labels::REMOTE_KUBECONFIG_SECRET_TYPE
            );
            self.unlink(&name).await;
            return;
        }
        let fingerprint =
            Fingerprint::of(&secret, cluster, remote_config(&secret, &self.local_config));
        if self
            .linked
            .get(&name)
            .is_some_and(|l| l.fingerprint == fingerprint)
        {
            self.pending.remove(&name);
            return;
        }
        self.link(secret, fingerprint, RECONNECT_BACKOFF).await;
    }

    /// Connects to the cluster a Secret names and starts feeding it,
    /// replacing the feed of the Secret's previous version only once the new
    /// one is connected; on failure, schedules a retry after the next
    /// delay of `backoff` (a fresh one for a new Secret, the pending one's
    /// when retrying).
    async fn link(&mut self, secret: Secret, fingerprint: Fingerprint, mut backoff: Backoff) {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let cluster = fingerprint.cluster.clone();
        match (self.connect)(secret.clone()).await {
            Ok(store) => {
                self.pending.remove(&name);
                if let Some(old) = self.linked.remove(&name) {
                    old.feed.stop().await;
                    if old.fingerprint.cluster != cluster {
                        self.forget_if_unused(&old.fingerprint.cluster);
                    }
                }
                self.index
                    .insert_cluster(&cluster, fingerprint.config.clone());
                let feed = tokio::spawn(feed_cluster(store, cluster.clone(), self.index.clone()));
                tracing::info!(secret = %name, %cluster, "linked cluster: feeding its endpoints");
                self.linked.insert(
                    name,
                    Linked {
                        fingerprint,
                        feed: Feed(feed),
                    },
                );
            }
            Err(error) => {
                let wait = backoff.next_delay();
                tracing::warn!(
                    secret = %name,
                    %cluster,
                    namespace = %self.namespace,
                    %error,
                    "cannot connect to the cluster of credentials secret {name}; retrying in {wait:?}"
                );
                self.pending.insert(
                    name,
                    Pending {
                        secret,
                        backoff,
                        due: Instant::now() + wait,
                    },
                );
            }
        }
    }

    /// A Secret is gone: stop its feed and forget its cluster.
    async fn unlink(&mut self, name: &str) {
        self.pending.remove(name);
        if let Some(old) = self.linked.remove(name) {
            old.feed.stop().await;
            self.forget_if_unused(&old.fingerprint.cluster);
            tracing::info!(secret = %name, cluster = %old.fingerprint.cluster, "cluster unlinked");
        }
    }

    /// Removes a cluster from the index unless another Secret still links
    /// it.
    fn forget_if_unused(&self, cluster: &str) {
        if !self
            .linked
            .values()
            .any(|l| l.fingerprint.cluster == cluster)
        {
            self.index.remove_cluster(cluster);
        }
    }

    /// Retries every connection that is due.
    async fn retry_due(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            let Some(pending) = self.pending.remove(&name) else {
                continue;
            };
            let Some(cluster) = cluster_name(&pending.secret) else {
                continue;
            };
            let config = remote_config(&pending.secret, &self.local_config);
            let fingerprint = Fingerprint::of(&pending.secret, cluster, config);
            self.link(pending.secret, fingerprint, pending.backoff)
                .await;
        }
    }

    fn next_retry(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.due).min()
    }
}

/// Watches the credentials Secrets in `namespace` of the local cluster
/// (those labelled `multicluster.linkerd.io/cluster-name`, of type
/// `mirror.linkerd.io/remote-kubeconfig`) and keeps one feeder running per
/// linked cluster, so remote-discovery mirrors resolve to the remote pods.
///
/// For each Secret: the remote [`ClusterConfig`] is read from its
/// annotations ([`remote_config`]), `connect` reaches the cluster (from the
/// kubeconfig on Kubernetes, by name for embedded clusters:
/// [`connect_embedded`]), the cluster is inserted into `index` and
/// [`feed_cluster`] runs for it. A changed Secret reconnects (the old feed
/// runs until the new connection is made); a deleted one removes its
/// cluster and stops its feed. A failed connection is logged with the
/// Secret's name and retried with a backoff from
/// [`RECONNECT_BACKOFF_MIN`] to [`RECONNECT_BACKOFF_MAX`]; other clusters
/// are untouched.
///
/// The Secrets are selected by label here rather than by the watch, since
/// the selector is on the label's presence, whatever its value. Never
/// returns; aborting its task stops every feed it started.
pub async fn follow_remote_clusters<L, R, C, Fut>(
    local: L,
    namespace: String,
    local_config: ClusterConfig,
    connect: C,
    index: SharedClusters,
) where
    L: ClusterStore,
    R: ClusterStore,
    C: Fn(Secret) -> Fut,
    Fut: Future<Output = Result<R, StoreError>>,
{
    let mut follower = Follower {
        namespace,
        local_config,
        connect,
        index,
        linked: BTreeMap::new(),
        pending: BTreeMap::new(),
    };
    loop {
        let mut secrets = local.watch::<Secret>(WatchParams {
            namespace: Some(follower.namespace.clone()),
            ..WatchParams::all()
        });
        loop {
            let retry = follower.next_retry();
            tokio::select! {
                event = secrets.next() => match event {
                    Some(Ok(event)) => follower.handle(event).await,
                    Some(Err(error)) => {
                        tracing::warn!(namespace = %follower.namespace, %error, "credentials secret watch failed; watching again");
                        break;
                    }
                    None => {
                        tracing::info!(namespace = %follower.namespace, "credentials secret watch ended; watching again");
                        break;
                    }
                },
                () = tokio::time::sleep_until(retry.unwrap_or_else(Instant::now)), if retry.is_some() => {
                    follower.retry_due().await;
                }
            }
        }
        tokio::time::sleep(REWATCH_BACKOFF).await;
    }
}

#[cfg(test)]
mod tests;
