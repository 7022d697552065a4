//! Keeps one cluster's part of the destination index in step with that
//! cluster's store.
//!
//! One watch per kind the index reads; each event is applied under the
//! index lock and the index generation is then published, so `Get` streams
//! wait on a channel instead of polling.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use strait_destination::ClusterIndex;
use strait_store::{ClusterStore, Event, StoredObject, WatchParams};

use crate::shared::SharedClusters;

/// How long a failed or ended watch waits before watching again: long
/// enough not to spin against a failing API server, short enough that a
/// restart is not noticed by proxies.
pub const REWATCH_BACKOFF: Duration = Duration::from_secs(1);

/// A kind the index is fed with, and the index calls for each kind of event,
/// so one watch loop serves every kind.
trait Indexed: StoredObject {
    /// The kind's name, for logs.
    const KIND: &'static str;
    fn apply(index: &mut ClusterIndex, object: &Self);
    fn delete(index: &mut ClusterIndex, namespace: &str, name: &str);
    fn reset(index: &mut ClusterIndex, objects: Vec<Self>);
}

/// Implements [`Indexed`] from the index's three methods for a kind.
macro_rules! indexed {
    ($ty:ty, $kind:literal, $apply:ident, $delete:ident, $reset:ident) => {
        impl Indexed for $ty {
            const KIND: &'static str = $kind;
            fn apply(index: &mut ClusterIndex, object: &Self) {
                index.$apply(object);
            }
            fn delete(index: &mut ClusterIndex, namespace: &str, name: &str) {
                index.$delete(namespace, name);
            }
            fn reset(index: &mut ClusterIndex, objects: Vec<Self>) {
                index.$reset(objects);
            }
        }
    };
}

indexed!(
    Service,
    "Service",
    apply_service,
    delete_service,
    reset_services
);
indexed!(
    Endpoints,
    "Endpoints",
    apply_endpoints,
    delete_endpoints,
    reset_endpoints
);
indexed!(
    EndpointSlice,
    "EndpointSlice",
    apply_endpoint_slice,
    delete_endpoint_slice,
    reset_endpoint_slices
);
indexed!(Pod, "Pod", apply_pod, delete_pod, reset_pods);

/// Applies one event to `cluster`'s index; an event for a cluster that is
/// not (or no longer) in the index is dropped.
fn apply<K: Indexed>(index: &SharedClusters, cluster: &str, event: Event<K>) {
    let applied = index.update(cluster, |c| match event {
        Event::Reset(objects) => K::reset(c, objects),
        Event::Apply(object) => K::apply(c, &object),
        Event::Delete(object) => {
            let meta = object.meta();
            let namespace = meta.namespace.as_deref().unwrap_or_default();
            let name = meta.name.as_deref().unwrap_or_default();
            K::delete(c, namespace, name);
        }
    });
    if applied.is_none() {
        tracing::debug!(%cluster, kind = K::KIND, "event for a cluster not in the index dropped");
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
    tokio::join!(
        follow::<S, Service>(&store, &cluster, &index),
        follow::<S, Endpoints>(&store, &cluster, &index),
        follow::<S, EndpointSlice>(&store, &cluster, &index),
        follow::<S, Pod>(&store, &cluster, &index),
    );
}

/// One kind's watch loop: apply events until the watch fails or ends, wait,
/// watch again.
async fn follow<S: ClusterStore, K: Indexed>(store: &S, cluster: &str, index: &SharedClusters) {
    loop {
        let mut events = store.watch::<K>(WatchParams::all());
        loop {
            match events.next().await {
                Some(Ok(event)) => apply(index, cluster, event),
                Some(Err(error)) => {
                    tracing::warn!(%cluster, kind = K::KIND, %error, "destination watch failed; watching again");
                    break;
                }
                None => {
                    tracing::info!(%cluster, kind = K::KIND, "destination watch ended; watching again");
                    break;
                }
            }
        }
        tokio::time::sleep(REWATCH_BACKOFF).await;
    }
}
