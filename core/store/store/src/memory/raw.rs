//! The store without Rust types, as an API server serves it: objects as
//! JSON by kind, writes by the API's verbs (create, update, status, delete),
//! lists that say at which resourceVersion they were taken, and watches
//! that start from such a resourceVersion, replaying what changed since
//! from a bounded history, or answer that it is too old (`410 Gone`) so
//! the client lists again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::apply::Write;
use super::{Change, MemoryStore, delete_locked, kind_state};
use crate::error::StoreError;
use crate::object::StoredKind;

/// What happened to an object, in the watch event types of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    /// It was created.
    Added,
    /// It changed.
    Modified,
    /// It was deleted; the object is its last state.
    Deleted,
}

impl ChangeType {
    /// The name the API uses in a watch event's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Clone, Debug)]
pub struct RawChange {
    /// What happened.
    pub change_type: ChangeType,
    /// The object after the change (for a deletion, its last state with the
    /// deletion's resourceVersion).
    pub object: Arc<Value>,
    /// The object before, for a label-selected watch to tell an object
    /// leaving its selection from one that never was in it.
    pub previous: Option<Arc<Value>>,
    /// The change's resourceVersion.
    pub revision: u64,
}

impl From<&Change> for RawChange {
    fn from(change: &Change) -> Self {
        let change_type = match (change.deleted, &change.previous) {
            (true, _) => ChangeType::Deleted,
            (false, None) => ChangeType::Added,
            (false, Some(_)) => ChangeType::Modified,
        };
        RawChange {
            change_type,
            object: change.current.clone(),
            previous: change.previous.clone(),
            revision: change.revision,
        }
    }
}

/// A watch cannot go on from where the client asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// The changes after `asked` are no longer all kept (the API server's
    /// `410 Gone`, reason `Expired`): the client must list again.
    #[error("too old resource version: {asked} ({oldest})")]
    Gone {
        /// The resourceVersion the client asked to start after.
        asked: u64,
        /// The oldest one a watch can start after now.
        oldest: u64,
    },
}

/// A watch of one kind: the changes after where it started, in order.
pub struct RawWatch {
    store: MemoryStore,
    backlog: VecDeque<RawChange>,
    receiver: broadcast::Receiver<Change>,
    /// Changes at or below this revision were delivered.
    seen: u64,
}

impl std::fmt::Debug for RawWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawWatch")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl RawWatch {
    /// The next change. A watcher that fell so far behind that changes
    /// were dropped for it is told `Gone`, as the API server ends such a
    /// watch, and must list again.
    pub async fn next(&mut self) -> Result<RawChange, WatchError> {
        loop {
            if let Some(change) = self.backlog.pop_front() {
                return Ok(change);
            }
            match self.receiver.recv().await {
                Ok(change) if change.revision <= self.seen => continue,
                Ok(change) => {
                    self.seen = change.revision;
                    return Ok(RawChange::from(&change));
                }
                Err(RecvError::Lagged(_)) => {
                    return Err(WatchError::Gone {
                        asked: self.seen,
                        oldest: self.store.revision(),
                    });
                }
                // The store keeps every kind's sender: this never comes.
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    }

    /// The resourceVersion up to which this watch has told everything, when
    /// nothing is waiting to be told: what a bookmark carries, so a client
    /// that restarts its watch from it misses nothing and replays nothing.
    pub fn bookmark(&mut self) -> Option<u64> {
        if !self.backlog.is_empty() {
            return None;
        }
        // Writers send under this lock: an empty channel under it means
        // every change up to the store's revision has been received.
        let state = self.store.lock();
        match self.receiver.try_recv() {
            Err(TryRecvError::Empty) => {
                self.seen = self.seen.max(state.revision);
                Some(self.seen)
            }
            Ok(change) => {
                self.backlog.push_back(RawChange::from(&change));
                self.seen = change.revision;
                None
            }
            Err(_) => None,
        }
    }
}

impl MemoryStore {
    /// The kinds that have, or had, objects or a definition.
    pub fn kinds(&self) -> Vec<StoredKind> {
        let state = self.lock();
        let mut kinds: Vec<StoredKind> = state.kinds.values().map(|ks| ks.kind.clone()).collect();
        kinds.sort();
        kinds
    }

    /// The CustomResourceDefinitions the store checks objects against, as
    /// they were given (registered or applied).
    pub fn definitions(&self) -> Vec<Value> {
        let state = self.lock();
        let mut definitions: Vec<Value> = state
            .definitions
            .values()
            .map(|d| d.source.clone())
            .collect();
        definitions.sort_by(|a, b| {
            a["metadata"]["name"]
                .as_str()
                .cmp(&b["metadata"]["name"].as_str())
        });
        definitions
    }

    /// One object of `kind`, if it exists.
    pub fn get_value(&self, kind: &StoredKind, namespace: &str, name: &str) -> Option<Arc<Value>> {
        let state = self.lock();
        let namespace = if kind.namespaced { namespace } else { "" };
        state
            .kinds
            .get(&(kind.group.clone(), kind.kind.clone()))
            .and_then(|ks| ks.objects.get(&(namespace.to_string(), name.to_string())))
            .map(|s| s.object.clone())
    }

    /// The objects of `kind` (in `namespace`, or all), and the
    /// resourceVersion the list was taken at.
    pub fn list_values(
        &self,
        kind: &StoredKind,
        namespace: Option<&str>,
    ) -> (Vec<Arc<Value>>, u64) {
        let state = self.lock();
        let items = state
            .kinds
            .get(&(kind.group.clone(), kind.kind.clone()))
            .map(|ks| {
                ks.objects
                    .iter()
                    .filter(|((ns, _), _)| namespace.is_none_or(|wanted| ns == wanted))
                    .map(|(_, s)| s.object.clone())
                    .collect()
            })
            .unwrap_or_default();
        (items, state.revision)
    }

    /// Creates `object`; one that exists already is `AlreadyExists`.
    pub fn create_value(&self, object: Value, manager: &str) -> Result<Arc<Value>, StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        self.write_value(object, manager, Write::Create, true)
    }

    /// Replaces an existing object whole (an update, `PUT`), keeping its
    /// status; a `metadata.resourceVersion` in it is a precondition.
    pub fn update_value(&self, object: Value, manager: &str) -> Result<Arc<Value>, StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        self.write_value(object, manager, Write::Update, true)
    }

    /// Replaces the status of an existing object with `object`'s (`PUT` on
    /// the status subresource); nothing else of it changes.
    pub fn update_status_value(
        &self,
        object: Value,
        manager: &str,
    ) -> Result<Arc<Value>, StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        self.write_value(object, manager, Write::Status, true)
    }

    /// Deletes an object and returns its last state.
    pub fn delete_value(
        &self,
        kind: &StoredKind,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Value>, StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let namespace = if kind.namespaced { namespace } else { "" };
        let last = self.get_value(kind, namespace, name);
        let mut state = self.lock();
        delete_locked(&mut state, kind, namespace, name)?;
        Ok(last.unwrap_or_else(|| Arc::new(Value::Null)))
    }

    /// Watches `kind` from resourceVersion `since`: the changes after it,
    /// then every new one. Without `since` (the API's `0` or none), the
    /// current objects come first as additions, as the API server sends
    /// them. A `since` older than the history kept is [`WatchError::Gone`].
    pub fn watch_values(
        &self,
        kind: &StoredKind,
        since: Option<u64>,
    ) -> Result<RawWatch, WatchError> {
        let mut state = self.lock();
        let revision = state.revision;
        let ks = kind_state(&mut state.kinds, kind);
        let receiver = ks.changes.subscribe();
        let backlog: VecDeque<RawChange> = match since {
            None => ks
                .objects
                .values()
                .map(|s| RawChange {
                    change_type: ChangeType::Added,
                    object: s.object.clone(),
                    previous: None,
                    revision,
                })
                .collect(),
            Some(asked) if asked < ks.history_from => {
                return Err(WatchError::Gone {
                    asked,
                    oldest: ks.history_from,
                });
            }
            Some(asked) => ks
                .history
                .iter()
                .filter(|c| c.revision > asked)
                .map(RawChange::from)
                .collect(),
        };
        drop(state);
        Ok(RawWatch {
            store: self.clone(),
            backlog,
            receiver,
            seen: revision,
        })
    }
}

#[cfg(test)]
mod tests;
