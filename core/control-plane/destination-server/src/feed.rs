//! Keeps one cluster's part of the destination index in step with that
//! cluster's store.
//!
//! One [`follow`] loop per kind the index reads; each event is applied
//! under the index lock and the index generation is then published, so
//! `Get` streams wait on a channel instead of polling.

use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use strait_destination::ClusterIndex;
pub use strait_store::follow::REWATCH_BACKOFF;
use strait_store::follow::{Indexes, follow};
use strait_store::{ClusterStore, Event, StoredObject, WatchParams};
use tracing::Instrument;

use crate::shared::SharedClusters;

strait_store::indexes! {
    /// One cluster's index as the watched kinds feed it.
    struct Fed(ClusterIndex) {
        Service => apply_service, delete_service, reset_services;
        Endpoints => apply_endpoints, delete_endpoints, reset_endpoints;
        EndpointSlice => apply_endpoint_slice, delete_endpoint_slice, reset_endpoint_slices;
        Pod => apply_pod, delete_pod, reset_pods;
    }
}

/// Watches Services, Endpoints, discovery.k8s.io/v1 EndpointSlices and Pods
/// in `store` and applies every event to the index of `cluster` in `index`
/// (which must already hold that cluster: see
/// [`SharedClusters::insert_cluster`]), publishing the generation after
/// each one.
///
/// Never returns: a watch that fails or ends is logged and restarted after
/// [`REWATCH_BACKOFF`] (its first event is a `Reset`, so nothing is lost).
/// Run it in its own task and abort the task to stop feeding.
pub async fn feed_cluster<S: ClusterStore>(store: S, cluster: String, index: SharedClusters) {
    // At warn level, so the feed's warnings name the cluster under every
    // filter that shows them.
    let span = tracing::warn_span!("destination_feed", %cluster);
    async {
        tokio::join!(
            follow_kind::<S, Service>(&store, &cluster, &index),
            follow_kind::<S, Endpoints>(&store, &cluster, &index),
            follow_kind::<S, EndpointSlice>(&store, &cluster, &index),
            follow_kind::<S, Pod>(&store, &cluster, &index),
        );
    }
    .instrument(span)
    .await;
}

/// Follows one kind into `cluster`'s index; an event for a cluster that is
/// not (or no longer) in the index is dropped.
async fn follow_kind<S, K>(store: &S, cluster: &str, index: &SharedClusters)
where
    S: ClusterStore,
    K: StoredObject,
    for<'a> Fed<'a>: Indexes<K>,
{
    follow(store, WatchParams::all(), |event: Event<K>| {
        let applied = index.update(cluster, |c| Fed(c).apply_event(event));
        if applied.is_none() {
            tracing::debug!(kind = %K::kind(&()), "event for a cluster not in the index dropped");
        }
        std::future::ready(())
    })
    .await;
}
