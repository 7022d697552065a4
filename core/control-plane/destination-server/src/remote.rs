//! Learning the linked clusters from the local cluster's Links, and feeding
//! each into the index.
//!
//! The Links are in the multicluster extension's namespace; each names a
//! credentials Secret, whose copy for this service `link-gen` writes in
//! the control plane's namespace (where Linkerd's destination reads it).
//! It is read by name (a `get`), never by listing or watching the Secrets
//! of the namespace: the control plane's namespace also holds the identity
//! issuer's key, which this process has no use for.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use strait_api::labels;
use strait_api::link::Link;
use strait_backoff::Backoff;
use strait_destination::ClusterConfig;
use strait_store::{
    ClusterStore, Event, EventRecorder, INVALID_CREDENTIALS, MemoryStore, StoreError, WatchParams,
    link_credentials_in, report_invalid_credentials,
};
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

/// How often every Link's credentials Secret is read again (by name), so a
/// rotated Secret is used and a deleted one stops its feed within this
/// time; a Link that changes is read again at once.
pub const CREDENTIALS_REREAD: Duration = Duration::from_secs(30);

/// How long the cluster of a deleted Link stays linked: a Link deleted and
/// created again (re-applied by a deploy tool, `kubectl replace --force`)
/// keeps its endpoints without a gap, while a Link that is really gone
/// stops being followed within seconds.
pub const DELETED_LINK_GRACE: Duration = Duration::from_secs(5);

/// The component the destination service's Events name as their source.
pub const EVENT_COMPONENT: &str = "strait-destination";

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
/// credentials Secret's cluster-name label, among the clusters of the
/// process.
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

/// Why a Link links no cluster, besides what is wrong with its Secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum LinkFault {
    /// Mirrors name the cluster they resolve to by it.
    #[error("link {link}: spec.targetClusterName is not set")]
    NoTargetCluster {
        /// `namespace/name` of the Link.
        link: String,
    },
    /// Not a kubeconfig Secret as `link-gen` writes it.
    #[error("link {link}: credentials secret {secret} has type {type_:?}; it must be {expected}")]
    SecretType {
        /// `namespace/name` of the Link.
        link: String,
        /// The Secret's name.
        secret: String,
        /// Its type as written.
        type_: String,
        /// [`labels::REMOTE_KUBECONFIG_SECRET_TYPE`].
        expected: &'static str,
    },
    /// Another Link already feeds the cluster: one feed per cluster.
    #[error("link {link}: cluster {cluster:?} is already linked by link {other}")]
    Duplicate {
        /// `namespace/name` of the Link.
        link: String,
        /// The cluster both name.
        cluster: String,
        /// The Link feeding it.
        other: String,
    },
}

/// What of a Link and its Secret decides the connection and the
/// configuration: when it is unchanged, an update (new resourceVersion,
/// other labels, another field of the Link) leaves the running feed alone.
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

/// A Link whose cluster could not be reached yet.
struct Pending {
    link: Link,
    secret: Secret,
    fingerprint: Fingerprint,
    backoff: Backoff,
    due: Instant,
}

/// Every Link of the namespace, and what each links, by Link name.
struct Follower<L, C> {
    local: L,
    namespace: String,
    local_config: ClusterConfig,
    connect: C,
    index: SharedClusters,
    links: BTreeMap<String, Link>,
    linked: BTreeMap<String, Linked>,
    pending: BTreeMap<String, Pending>,
    /// Links deleted, by name, and when their cluster is unlinked unless
    /// the Link comes back first.
    deleted: BTreeMap<String, Instant>,
    events: EventRecorder,
}

fn name_of(link: &Link) -> String {
    link.metadata.name.clone().unwrap_or_default()
}

impl<L, C, Fut, R> Follower<L, C>
where
    L: ClusterStore,
    C: Fn(Secret) -> Fut,
    Fut: Future<Output = Result<R, StoreError>>,
    R: ClusterStore,
{
    async fn handle(&mut self, event: Event<Link>) {
        match event {
            Event::Reset(links) => {
                let present: Vec<String> = links.iter().map(name_of).collect();
                let gone: Vec<String> = self
                    .links
                    .keys()
                    .chain(self.linked.keys())
                    .chain(self.pending.keys())
                    .filter(|name| !present.contains(name))
                    .cloned()
                    .collect();
                for name in gone {
                    self.remove(&name).await;
                }
                for link in links {
                    self.read(link).await;
                }
            }
            Event::Apply(link) => {
                // Only its spec says which Secret and which cluster; status
                // updates (the service mirror's) change neither.
                let name = name_of(&link);
                if self.links.get(&name).is_some_and(|l| l.spec == link.spec) {
                    self.links.insert(name, link);
                } else {
                    self.read(link).await;
                }
            }
            Event::Delete(link) => self.remove(&name_of(&link)).await,
        }
    }

    /// A Link is gone: forget it, and unlink its cluster after
    /// [`DELETED_LINK_GRACE`] unless the Link comes back meanwhile.
    async fn remove(&mut self, name: &str) {
        if let Some(link) = self.links.remove(name) {
            self.events.forget_object(&link);
        }
        if self.linked.contains_key(name) {
            self.deleted
                .insert(name.to_string(), Instant::now() + DELETED_LINK_GRACE);
        } else {
            self.unlink(name).await;
        }
    }

    /// Unlinks the clusters of Links deleted more than the grace ago that
    /// did not come back.
    async fn unlink_deleted(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .deleted
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            self.deleted.remove(&name);
            if !self.links.contains_key(&name) {
                self.unlink(&name).await;
            }
        }
    }

    /// Reads `link`'s credentials Secret by name, in the control plane's
    /// namespace (the local cluster's, where `link-gen` writes the
    /// destination's copy), and links its cluster
    /// unless it is already linked with the same credentials and
    /// configuration. A Link without a usable Secret links nothing; a
    /// Secret that cannot be read now leaves things as they are until the
    /// next read.
    async fn read(&mut self, link: Link) {
        let name = name_of(&link);
        self.deleted.remove(&name);
        self.links.insert(name.clone(), link.clone());
        let credentials = &self.local_config.control_plane_namespace;
        match link_credentials_in(&self.local, &link, credentials).await {
            Ok(secret) => self.apply(link, secret).await,
            Err(error @ (StoreError::NotFound { .. } | StoreError::Invalid { .. })) => {
                report_invalid_credentials(&mut self.events, &self.local, &link, &error).await;
                if self.linked.contains_key(&name) || self.pending.contains_key(&name) {
                    tracing::warn!(link = %name, %error, "no usable credentials secret: unlinking");
                }
                self.unlink(&name).await;
            }
            Err(error) => {
                tracing::warn!(link = %name, %error, "cannot read the credentials secret; reading it again later");
            }
        }
    }

    /// Links the cluster of `link` through `secret` unless it is linked
    /// already with the same credentials and configuration, or is waiting
    /// for its next attempt with them.
    async fn apply(&mut self, link: Link, secret: Secret) {
        let name = name_of(&link);
        let fingerprint = match self.fingerprint(&link, &secret) {
            Ok(fingerprint) => fingerprint,
            Err(fault) => {
                if self.linked.contains_key(&name) || self.pending.contains_key(&name) {
                    tracing::warn!(link = %name, "{fault}; unlinking");
                } else {
                    tracing::debug!(link = %name, "{fault}");
                }
                self.unlink(&name).await;
                return;
            }
        };
        if self
            .linked
            .get(&name)
            .is_some_and(|l| l.fingerprint == fingerprint)
        {
            self.pending.remove(&name);
            return;
        }
        if self
            .pending
            .get(&name)
            .is_some_and(|p| p.fingerprint == fingerprint)
        {
            return;
        }
        self.link(link, secret, fingerprint, RECONNECT_BACKOFF)
            .await;
    }

    /// What `link` and `secret` would link, or why nothing.
    fn fingerprint(&self, link: &Link, secret: &Secret) -> Result<Fingerprint, LinkFault> {
        let name = name_of(link);
        let whole = format!("{}/{name}", self.namespace);
        let cluster = link
            .spec
            .target_cluster_name
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| LinkFault::NoTargetCluster {
                link: whole.clone(),
            })?;
        if secret.type_.as_deref() != Some(labels::REMOTE_KUBECONFIG_SECRET_TYPE) {
            return Err(LinkFault::SecretType {
                link: whole,
                secret: secret.metadata.name.clone().unwrap_or_default(),
                type_: secret.type_.clone().unwrap_or_default(),
                expected: labels::REMOTE_KUBECONFIG_SECRET_TYPE,
            });
        }
        let linked = self
            .linked
            .iter()
            .map(|(other, l)| (other, &l.fingerprint.cluster));
        let waiting = self
            .pending
            .iter()
            .map(|(other, p)| (other, &p.fingerprint.cluster));
        if let Some((other, _)) = linked
            .chain(waiting)
            .find(|(other, c)| **other != name && **c == cluster)
        {
            return Err(LinkFault::Duplicate {
                link: whole,
                cluster,
                other: format!("{}/{other}", self.namespace),
            });
        }
        let config = remote_config(secret, &self.local_config);
        Ok(Fingerprint::of(secret, cluster, config))
    }

    /// Connects to the cluster a Link's Secret reaches and starts feeding
    /// it, replacing the feed of the previous credentials only once the new
    /// one is connected; on failure, schedules a retry after the next
    /// delay of `backoff` (a fresh one for new credentials, the pending
    /// one's when retrying), and reports credentials refused as written as
    /// an Event on the Link, once per message.
    async fn link(
        &mut self,
        link: Link,
        secret: Secret,
        fingerprint: Fingerprint,
        mut backoff: Backoff,
    ) {
        let name = name_of(&link);
        let cluster = fingerprint.cluster.clone();
        match (self.connect)(secret.clone()).await {
            Ok(store) => {
                self.events.forget(&link, INVALID_CREDENTIALS);
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
                tracing::info!(link = %name, %cluster, "linked cluster: feeding its endpoints");
                self.linked.insert(
                    name,
                    Linked {
                        fingerprint,
                        feed: Feed(feed),
                    },
                );
            }
            Err(error) => {
                report_invalid_credentials(&mut self.events, &self.local, &link, &error).await;
                let wait = backoff.next_delay();
                tracing::warn!(
                    link = %name,
                    %cluster,
                    namespace = %self.namespace,
                    %error,
                    "cannot connect to the cluster of link {name}; retrying in {wait:?}"
                );
                self.pending.insert(
                    name,
                    Pending {
                        link,
                        secret,
                        fingerprint,
                        backoff,
                        due: Instant::now() + wait,
                    },
                );
            }
        }
    }

    /// A Link is gone or links nothing: stop its feed and forget its
    /// cluster.
    async fn unlink(&mut self, name: &str) {
        self.pending.remove(name);
        if let Some(old) = self.linked.remove(name) {
            old.feed.stop().await;
            self.forget_if_unused(&old.fingerprint.cluster);
            tracing::info!(link = %name, cluster = %old.fingerprint.cluster, "cluster unlinked");
        }
    }

    /// Removes a cluster from the index unless another Link still links
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
            if let Some(p) = self.pending.remove(&name) {
                self.link(p.link, p.secret, p.fingerprint, p.backoff).await;
            }
        }
    }

    /// Reads every Link's Secret again.
    async fn reread(&mut self) {
        let links: Vec<Link> = self.links.values().cloned().collect();
        for link in links {
            self.read(link).await;
        }
    }

    fn next_retry(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.due).min()
    }

    fn next_unlink(&self) -> Option<Instant> {
        self.deleted.values().min().copied()
    }
}

/// Watches the Links in `namespace` of the local cluster and keeps one
/// feeder running per linked cluster (a Link's `targetClusterName`), so
/// remote-discovery mirrors resolve to the remote pods.
///
/// For each Link: its credentials Secret (`spec.clusterCredentialsSecret`,
/// of type `mirror.linkerd.io/remote-kubeconfig`) is read by name in the
/// control plane's namespace (`local_config`'s), the
/// remote [`ClusterConfig`] from the Secret's annotations
/// ([`remote_config`]), `connect` reaches the cluster (from the kubeconfig
/// on Kubernetes, by name for embedded clusters: [`connect_embedded`]),
/// the cluster is inserted into `index` and [`feed_cluster`] runs for it.
/// The Secret is read again when the Link's spec changes and every
/// `reread` ([`CREDENTIALS_REREAD`]): changed credentials reconnect (the
/// old feed runs until the new connection is made), a deleted Secret
/// removes the cluster and stops its feed, and so does a deleted Link
/// that is not back within [`DELETED_LINK_GRACE`]. A failed connection is
/// logged with the Link's name and retried with a backoff from
/// [`RECONNECT_BACKOFF_MIN`] to [`RECONNECT_BACKOFF_MAX`]; credentials
/// refused as written (a kubeconfig that would run a command or read a
/// file) also get a Warning Event `InvalidCredentials` on the Link, once
/// per message. Other clusters are untouched. Secrets no Link names are
/// never read.
///
/// Never returns; aborting its task stops every feed it started.
pub async fn follow_remote_clusters<L, R, C, Fut>(
    local: L,
    namespace: String,
    local_config: ClusterConfig,
    connect: C,
    index: SharedClusters,
    reread: Duration,
) where
    L: ClusterStore,
    R: ClusterStore,
    C: Fn(Secret) -> Fut,
    Fut: Future<Output = Result<R, StoreError>>,
{
    let mut follower = Follower {
        local,
        namespace,
        local_config,
        connect,
        index,
        links: BTreeMap::new(),
        linked: BTreeMap::new(),
        pending: BTreeMap::new(),
        deleted: BTreeMap::new(),
        events: EventRecorder::new(EVENT_COMPONENT),
    };
    let mut next_reread = Instant::now() + reread;
    loop {
        let mut links = follower.local.watch::<Link>(WatchParams {
            namespace: Some(follower.namespace.clone()),
            ..WatchParams::all()
        });
        loop {
            let retry = follower.next_retry();
            let unlink = follower.next_unlink();
            tokio::select! {
                event = links.next() => match event {
                    Some(Ok(event)) => follower.handle(event).await,
                    Some(Err(error)) => {
                        tracing::warn!(namespace = %follower.namespace, %error, "link watch failed; watching again");
                        break;
                    }
                    None => {
                        tracing::info!(namespace = %follower.namespace, "link watch ended; watching again");
                        break;
                    }
                },
                () = tokio::time::sleep_until(retry.unwrap_or_else(Instant::now)), if retry.is_some() => {
                    follower.retry_due().await;
                }
                () = tokio::time::sleep_until(unlink.unwrap_or_else(Instant::now)), if unlink.is_some() => {
                    follower.unlink_deleted().await;
                }
                () = tokio::time::sleep_until(next_reread) => {
                    follower.reread().await;
                    next_reread = Instant::now() + reread;
                }
            }
        }
        tokio::time::sleep(REWATCH_BACKOFF).await;
    }
}

#[cfg(test)]
mod tests;
