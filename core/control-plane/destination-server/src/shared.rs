//! The index shared between the feeders and the service.

use std::sync::Arc;

use parking_lot::Mutex;
use strait_destination::{ClusterConfig, ClusterIndex, Clusters};
use tokio::sync::watch;

/// Every cluster's destination index behind one lock, and the channel its
/// generation is published on after each change, so `Get` streams wait on
/// the channel instead of polling the index.
///
/// Cloning shares the same index and channel: the feeders of every cluster
/// and the service hold clones.
///
/// Streams follow their own resolution (whose endpoint set is shared, and
/// replaced only when its generation moves) rather than
/// [`Clusters::changed_since`], and a removed resolution reads as absent;
/// so the index's record of removals is dropped after every change instead
/// of growing with every Service ever deleted.
#[derive(Clone, Debug)]
pub struct SharedClusters {
    clusters: Arc<Mutex<Clusters>>,
    changes: Arc<watch::Sender<u64>>,
}

impl Default for SharedClusters {
    fn default() -> Self {
        SharedClusters::new()
    }
}

impl SharedClusters {
    /// An index with no clusters yet; the caller inserts the local cluster
    /// and [`crate::follow_remote_clusters`] the linked ones.
    pub fn new() -> Self {
        let (changes, _) = watch::channel(0);
        SharedClusters {
            clusters: Arc::new(Mutex::new(Clusters::new())),
            changes: Arc::new(changes),
        }
    }

    /// Adds a cluster with an empty index (or reconfigures a known one), so
    /// its feeder has somewhere to write and mirrors naming it start
    /// resolving through it.
    pub fn insert_cluster(&self, name: &str, config: ClusterConfig) {
        self.write(|clusters| clusters.insert_cluster(name, config));
    }

    /// Forgets a cluster (unlinked): its resolutions are gone and mirrors
    /// naming it resolve to no endpoints.
    pub fn remove_cluster(&self, name: &str) {
        self.write(|clusters| clusters.remove_cluster(name));
    }

    /// Applies `change` to one cluster's index and publishes the new
    /// generation if anything moved; `None` for an unknown cluster (one
    /// removed while its feeder was still delivering).
    pub fn update<R>(
        &self,
        cluster: &str,
        change: impl FnOnce(&mut ClusterIndex) -> R,
    ) -> Option<R> {
        self.write(|clusters| clusters.update(cluster, change))
    }

    /// Reads the index under its lock; `read` must not block.
    pub fn read<R>(&self, read: impl FnOnce(&Clusters) -> R) -> R {
        let clusters = self.clusters.lock();
        read(&clusters)
    }

    /// A receiver that wakes whenever the index generation moves; its value
    /// is the generation.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// How many receivers follow the index: one per open stream plus the
    /// caller's own, so a caller can check that streams end with their
    /// clients.
    pub fn subscriber_count(&self) -> usize {
        self.changes.receiver_count()
    }

    /// Applies a change under the lock, then publishes the generation if it
    /// moved, so watchers wake only for real changes.
    fn write<R>(&self, change: impl FnOnce(&mut Clusters) -> R) -> R {
        let (out, generation) = {
            let mut clusters = self.clusters.lock();
            let out = change(&mut clusters);
            let generation = clusters.generation();
            clusters.forget_removed_until(generation);
            (out, generation)
        };
        self.changes.send_if_modified(|published| {
            let moved = *published != generation;
            *published = generation;
            moved
        });
        out
    }
}

#[cfg(test)]
mod tests;
