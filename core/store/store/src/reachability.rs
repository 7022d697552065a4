//! A store behind a switch that can make it unreachable: how an API server
//! outage (or a network partition between clusters) looks to a controller,
//! so the embedded clusters can be put through one and the controllers'
//! behaviour during it (keep what they know, retry, resync) tested.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::watch;

use crate::error::StoreError;
use crate::event::Event;
use crate::store::{ClusterStore, StoredObject, WatchParams};

/// How long a watch opened during an outage waits before it fails, as a
/// client's connection attempt does before it times out.
const REFUSED_AFTER: Duration = Duration::from_secs(1);

/// Whether a store can be reached; clones share the switch.
#[derive(Clone, Debug)]
pub struct Reachability {
    down: Arc<watch::Sender<bool>>,
}

impl Default for Reachability {
    fn default() -> Self {
        Reachability {
            down: Arc::new(watch::channel(false).0),
        }
    }
}

impl Reachability {
    /// A switch that starts reachable.
    pub fn new() -> Reachability {
        Reachability::default()
    }

    /// Makes the store unreachable: open watches fail, new requests fail.
    pub fn cut(&self) {
        self.down.send_replace(true);
    }

    /// Makes the store reachable again.
    pub fn restore(&self) {
        self.down.send_replace(false);
    }

    /// Whether the store is unreachable now.
    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// The switch's position, and each change of it: for a server that
    /// must drop its open connections the moment it is cut.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.down.subscribe()
    }

    fn unavailable(&self) -> StoreError {
        StoreError::Unavailable {
            reason: "the API server cannot be reached (connection refused)".into(),
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.is_down() {
            Err(self.unavailable())
        } else {
            Ok(())
        }
    }
}

/// `inner` reached through `reachability`: while it is cut, every request
/// fails with `Unavailable` and every watch fails, as a remote API server's
/// clients see an outage; once restored, a new watch starts with a fresh
/// `Reset` of the current state.
#[derive(Clone, Debug)]
pub struct Reachable<S> {
    inner: S,
    reachability: Reachability,
}

impl<S> Reachable<S> {
    /// `inner`, behind `reachability`.
    pub fn new(inner: S, reachability: Reachability) -> Reachable<S> {
        Reachable {
            inner,
            reachability,
        }
    }

    /// The store behind the switch.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The switch.
    pub fn reachability(&self) -> &Reachability {
        &self.reachability
    }
}

/// Where a switched watch is.
enum WatchState<K> {
    /// Not started: the first poll opens it (or fails, when cut).
    Closed,
    /// Open, forwarding the inner watch.
    Open(BoxStream<'static, Result<Event<K>, StoreError>>),
    /// The outage ended it; the consumer has had the error.
    Failed,
}

impl<S: ClusterStore> ClusterStore for Reachable<S> {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        let inner = self.inner.clone();
        let reachability = self.reachability.clone();
        stream::unfold(WatchState::<K>::Closed, move |state| {
            let inner = inner.clone();
            let reachability = reachability.clone();
            let params = params.clone();
            async move {
                let mut down = reachability.down.subscribe();
                match state {
                    WatchState::Failed => None,
                    WatchState::Closed => {
                        if *down.borrow_and_update() {
                            // The connection attempt fails after a while,
                            // even if the server is back by then: it was
                            // made while it was not.
                            tokio::time::sleep(REFUSED_AFTER).await;
                            return Some((Err(reachability.unavailable()), WatchState::Failed));
                        }
                        let mut events = inner.watch::<K>(params);
                        let first = next_or_cut(&mut events, &mut down, &reachability).await?;
                        let state = if first.is_err() {
                            WatchState::Failed
                        } else {
                            WatchState::Open(events)
                        };
                        Some((first, state))
                    }
                    WatchState::Open(mut events) => {
                        let item = next_or_cut(&mut events, &mut down, &reachability).await?;
                        let state = if item.is_err() {
                            WatchState::Failed
                        } else {
                            WatchState::Open(events)
                        };
                        Some((item, state))
                    }
                }
            }
        })
        .boxed()
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        self.reachability.check()?;
        self.inner.get(namespace, name).await
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<K, StoreError> {
        self.reachability.check()?;
        self.inner.apply(object, field_manager).await
    }

    async fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: serde_json::Value,
    ) -> Result<K, StoreError> {
        self.reachability.check()?;
        self.inner.patch_status(namespace, name, status).await
    }

    async fn delete<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<(), StoreError> {
        self.reachability.check()?;
        self.inner.delete::<K>(namespace, name).await
    }
}

/// The inner watch's next event, or the outage's error if the switch is
/// cut first (or already cut); `None` when the inner watch ends.
async fn next_or_cut<K>(
    events: &mut BoxStream<'static, Result<Event<K>, StoreError>>,
    down: &mut watch::Receiver<bool>,
    reachability: &Reachability,
) -> Option<Result<Event<K>, StoreError>> {
    tokio::select! {
        biased;
        cut = async { down.wait_for(|down| *down).await.is_ok() } => if cut {
            Some(Err(reachability.unavailable()))
        } else {
            // The switch is gone with its owner: nothing will cut it.
            events.next().await
        },
        item = events.next() => item,
    }
}

#[cfg(test)]
mod tests;
