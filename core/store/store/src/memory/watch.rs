//! Watches of the embedded store: a snapshot, then changes, with the API
//! server's label-selector semantics and a fresh snapshot after any gap.

use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use serde_json::Value;
use strait_decisions::selector::Labels;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{Change, MemoryStore, describe, kind_state};
use crate::error::StoreError;
use crate::event::Event;
use crate::object::StoredKind;
use crate::store::{StoredObject, WatchParams};

struct Watch {
    store: MemoryStore,
    kind: StoredKind,
    params: WatchParams,
    changes: broadcast::Receiver<Change>,
    /// Changes at or below this revision are already reflected.
    seen: u64,
    reset: Option<Vec<Arc<Value>>>,
}

pub(super) fn watch<K: StoredObject>(
    store: MemoryStore,
    kind: StoredKind,
    params: WatchParams,
) -> BoxStream<'static, Result<Event<K>, StoreError>> {
    let (changes, snapshot, seen) = {
        let mut state = store.lock();
        let revision = state.revision;
        let ks = kind_state(&mut state.kinds, &kind);
        // Subscribing under the lock that writers send under: nothing falls
        // between the snapshot and the first change.
        let changes = ks.changes.subscribe();
        let snapshot = matching(ks.objects.values().map(|s| &s.object), &params);
        (changes, snapshot, revision)
    };
    let watch = Watch {
        store,
        kind,
        params,
        changes,
        seen,
        reset: Some(snapshot),
    };
    stream::unfold(watch, |mut watch| async move {
        let event = watch.next::<K>().await?;
        Some((Ok(event), watch))
    })
    .boxed()
}

fn matching<'a>(
    objects: impl Iterator<Item = &'a Arc<Value>>,
    params: &WatchParams,
) -> Vec<Arc<Value>> {
    objects.filter(|o| selected(o, params)).cloned().collect()
}

fn selected(object: &Value, params: &WatchParams) -> bool {
    if let Some(ns) = &params.namespace
        && object["metadata"]["namespace"].as_str() != Some(ns.as_str())
    {
        return false;
    }
    let labels: Labels = object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    params.labels.matches(&labels)
}

impl Watch {
    async fn next<K: StoredObject>(&mut self) -> Option<Event<K>> {
        loop {
            if let Some(snapshot) = self.reset.take() {
                return Some(Event::Reset(
                    snapshot.iter().filter_map(|o| typed(o)).collect(),
                ));
            }
            match self.changes.recv().await {
                Ok(change) => {
                    if change.revision <= self.seen {
                        continue;
                    }
                    self.seen = change.revision;
                    if let Some(event) = self.filter::<K>(&change) {
                        return Some(event);
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(kind = %self.kind.kind, missed, "watcher fell behind; resynchronizing");
                    let mut state = self.store.lock();
                    self.seen = state.revision;
                    let ks = kind_state(&mut state.kinds, &self.kind);
                    // A fresh receiver at the tail, under the writers' lock:
                    // the stale backlog is dropped, nothing new is missed.
                    self.changes = ks.changes.subscribe();
                    self.reset = Some(matching(
                        ks.objects.values().map(|s| &s.object),
                        &self.params,
                    ));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// What a label-selected watch reports: an object entering the selection
    /// is applied, one leaving it is deleted.
    fn filter<K: StoredObject>(&self, change: &Change) -> Option<Event<K>> {
        let now = !change.deleted && selected(&change.current, &self.params);
        let before = change
            .previous
            .as_deref()
            .is_some_and(|p| selected(p, &self.params));
        if now {
            typed(&change.current).map(Event::Apply)
        } else if before {
            typed(&change.current).map(Event::Delete)
        } else {
            None
        }
    }
}

/// Decodes an object; one that does not fit its type is reported and skipped
/// so it never stops the watch.
fn typed<K: StoredObject>(object: &Value) -> Option<K> {
    match serde_json::from_value(object.clone()) {
        Ok(typed) => Some(typed),
        Err(err) => {
            tracing::warn!(object = %describe(object), "skipping malformed object: {err}");
            None
        }
    }
}
