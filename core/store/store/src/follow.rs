//! Following one kind of a store into an in-memory index.
//!
//! The control plane's gRPC servers answer from indexes (the inbound policy
//! index, each cluster's destination index) that must track the cluster as
//! it changes. Each index reads several kinds; for every kind, [`follow`]
//! watches the store and hands each event to the caller, which applies it
//! to its index under its own lock (through [`Indexes::apply_event`]) and
//! tells its readers. A watch that fails or ends is opened again after
//! [`REWATCH_BACKOFF`]; its first event is a `Reset` with the complete
//! current set, so an index never needs the events it missed meanwhile.
//!
//! The mapping from a kind's events to an index's own calls is written once
//! per index with [`indexes!`](crate::indexes).

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;

use crate::event::Event;
use crate::store::{ClusterStore, StoredObject, WatchParams};

/// How long a failed or ended watch waits before watching again: long
/// enough not to spin against a failing API server, short enough that a
/// restart is not noticed by proxies.
pub const REWATCH_BACKOFF: Duration = Duration::from_secs(1);

/// An index fed with objects of kind `K`: the three calls a watch's events
/// become, so one loop ([`follow`]) serves every kind of every index.
pub trait Indexes<K: StoredObject> {
    /// Adds or updates one object.
    fn apply(&mut self, object: &K);

    /// Forgets the object `namespace`/`name` (namespace empty for a
    /// cluster-scoped kind).
    fn delete(&mut self, namespace: &str, name: &str);

    /// Replaces every object of the kind with `objects`, the complete
    /// current set: at the start of a watch and after any gap in it.
    fn reset(&mut self, objects: Vec<K>);

    /// Applies one watch event. A deleted object is forgotten by the
    /// namespace and name of its last state, which is all an index may
    /// rely on (its other fields may differ from what was applied).
    fn apply_event(&mut self, event: Event<K>) {
        match event {
            Event::Reset(objects) => self.reset(objects),
            Event::Apply(object) => self.apply(&object),
            Event::Delete(object) => {
                let meta = object.meta();
                let namespace = meta.namespace.as_deref().unwrap_or_default();
                let name = meta.name.as_deref().unwrap_or_default();
                self.delete(namespace, name);
            }
        }
    }
}

/// Declares a view of an index that [`Indexes`] each listed kind by the
/// index's own `apply` / `delete` / `reset` calls for that kind.
///
/// The view is a local newtype over `&mut` the index because neither the
/// index nor the kinds (k8s-openapi's, strait-api's) belong to the crate
/// that feeds it, and a crate may only implement a foreign trait for a
/// type of its own. Its `reset` calls take any `IntoIterator` of the kind.
///
/// ```
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use strait_store::Event;
/// use strait_store::follow::Indexes;
///
/// /// The names of the ConfigMaps a cluster holds.
/// #[derive(Default)]
/// struct Names(Vec<String>);
///
/// impl Names {
///     fn apply_config_map(&mut self, map: &ConfigMap) {
///         self.0.extend(map.metadata.name.clone());
///     }
///     fn delete_config_map(&mut self, _namespace: &str, name: &str) {
///         self.0.retain(|known| known != name);
///     }
///     fn reset_config_maps(&mut self, maps: impl IntoIterator<Item = ConfigMap>) {
///         self.0 = maps.into_iter().filter_map(|map| map.metadata.name).collect();
///     }
/// }
///
/// strait_store::indexes! {
///     /// The names as the store's ConfigMaps feed them.
///     struct Fed(Names) {
///         ConfigMap => apply_config_map, delete_config_map, reset_config_maps;
///     }
/// }
///
/// let named = |name: &str| {
///     let mut map = ConfigMap::default();
///     map.metadata.name = Some(name.into());
///     map
/// };
/// let mut names = Names::default();
/// Fed(&mut names).apply_event(Event::Reset(vec![named("a")]));
/// Fed(&mut names).apply_event(Event::Apply(named("b")));
/// Fed(&mut names).apply_event(Event::Delete(named("a")));
/// assert_eq!(names.0, ["b"]);
/// ```
#[macro_export]
macro_rules! indexes {
    (
        $(#[$attr:meta])*
        struct $view:ident($index:ty) {
            $($kind:ty => $apply:ident, $delete:ident, $reset:ident;)+
        }
    ) => {
        $(#[$attr])*
        struct $view<'a>(&'a mut $index);

        $(
            impl $crate::follow::Indexes<$kind> for $view<'_> {
                fn apply(&mut self, object: &$kind) {
                    self.0.$apply(object);
                }

                fn delete(&mut self, namespace: &str, name: &str) {
                    self.0.$delete(namespace, name);
                }

                fn reset(&mut self, objects: ::std::vec::Vec<$kind>) {
                    self.0.$reset(objects);
                }
            }
        )+
    };
}

/// Watches the objects of kind `K` that `params` selects in `store` and
/// hands every event to `on_event`, waiting for the future it returns
/// before taking the next one (so the caller's follow-up work, such as
/// recording what the event changed, stays in event order).
///
/// `on_event` applies the event to the caller's index under the caller's
/// lock and tells the index's readers; how it locks and publishes is the
/// caller's, since indexes share them differently.
///
/// Never returns: a watch that fails or ends is logged with the kind's name
/// and opened again after [`REWATCH_BACKOFF`]. Run it in its own task (or
/// joined with the other kinds of the same index) and abort the task to
/// stop following; the caller's span, if any, says whose index it is.
pub async fn follow<S, K, F, Fut>(store: &S, params: WatchParams, mut on_event: F)
where
    S: ClusterStore,
    K: StoredObject,
    F: FnMut(Event<K>) -> Fut,
    Fut: Future<Output = ()>,
{
    let kind = K::kind(&());
    loop {
        let mut events = store.watch::<K>(params.clone());
        loop {
            match events.next().await {
                Some(Ok(event)) => on_event(event).await,
                Some(Err(error)) => {
                    tracing::warn!(%kind, %error, "watch failed; watching again");
                    break;
                }
                None => {
                    tracing::info!(%kind, "watch ended; watching again");
                    break;
                }
            }
        }
        tokio::time::sleep(REWATCH_BACKOFF).await;
    }
}

#[cfg(test)]
mod tests;
