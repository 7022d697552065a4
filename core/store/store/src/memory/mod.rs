//! The embedded store: a cluster's objects in memory, behaving like the API
//! server for everything strait uses.

mod alloc;
mod apply;
mod defaults;
mod files;
mod kinds;
pub(crate) mod merge;
mod raw;
mod schema;
mod watch;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::stream::BoxStream;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use parking_lot::{Mutex, MutexGuard};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::error::StoreError;
use crate::event::Event;
use crate::object::{ObjectRef, StoredKind};
use crate::store::{ClusterStore, StoredObject, WatchParams};

pub use files::LoadReport;
pub use raw::{ChangeType, RawChange, RawWatch, WatchError};

/// Changes kept for slow watchers before they are resynchronized by a `Reset`.
const WATCH_BUFFER: usize = 4096;
/// Changes of one kind kept so that a client can watch from a
/// resourceVersion it listed at, as the API server's watch cache does; a
/// client asking for an older one is told `410 Gone` and lists again.
const HISTORY: usize = 1024;
/// Namespaces every cluster has.
const BUILT_IN_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// A cluster's objects in memory. Cloning shares the same store.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    writes: AtomicU64,
}

struct State {
    revision: u64,
    kinds: HashMap<(String, String), KindState>,
    cluster_ips: alloc::ClusterIps,
    /// The CustomResourceDefinitions known, by group and kind: objects of
    /// these kinds are checked against their schema on every write.
    definitions: HashMap<(String, String), schema::Definition>,
}

struct KindState {
    kind: StoredKind,
    objects: BTreeMap<(String, String), Stored>,
    changes: broadcast::Sender<Change>,
    /// The latest changes, oldest first, at most [`HISTORY`].
    history: VecDeque<Change>,
    /// Every change after this revision is in `history`.
    history_from: u64,
}

impl KindState {
    /// Keeps `change` for watches that start from a resourceVersion and
    /// tells the current watchers.
    fn record(&mut self, change: Change) {
        if self.history.len() == HISTORY
            && let Some(oldest) = self.history.pop_front()
        {
            self.history_from = oldest.revision;
        }
        self.history.push_back(change.clone());
        let _ = self.changes.send(change);
    }
}

struct Stored {
    object: Arc<Value>,
    /// The last configuration each field manager applied.
    applied: BTreeMap<String, Value>,
}

/// One change to one object, as watchers receive it.
#[derive(Clone)]
pub(crate) struct Change {
    revision: u64,
    previous: Option<Arc<Value>>,
    current: Arc<Value>,
    deleted: bool,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("writes", &self.write_count())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty cluster with the built-in namespaces and the usual service
    /// range 10.96.0.0/12.
    pub fn new() -> Self {
        Self::with_service_range(Ipv4Addr::new(10, 96, 0, 0), 12)
    }

    /// An empty cluster allocating ClusterIPs from `network/prefix_len`
    /// (clusters of one `strait local` get distinct ranges).
    pub fn with_service_range(network: Ipv4Addr, prefix_len: u8) -> Self {
        let store = MemoryStore {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    revision: 0,
                    kinds: HashMap::new(),
                    cluster_ips: alloc::ClusterIps::new(network, prefix_len),
                    definitions: HashMap::new(),
                }),
                writes: AtomicU64::new(0),
            }),
        };
        for ns in BUILT_IN_NAMESPACES {
            let namespace =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            // Cannot fail: a Namespace needs no namespace and has a name.
            let _ = store.apply_value(namespace, "strait", false);
        }
        store.inner.writes.store(0, Ordering::Relaxed);
        store
    }

    /// Write requests received (apply, status patch, delete), whether or not
    /// they changed anything: what a controller sent, as an API server's
    /// audit log would count it.
    pub fn write_count(&self) -> u64 {
        self.inner.writes.load(Ordering::Relaxed)
    }

    /// The current revision (the newest resourceVersion handed out).
    pub fn revision(&self) -> u64 {
        self.lock().revision
    }

    /// Every object of every kind, for saving and for `strait get`.
    pub fn objects(&self) -> Vec<(StoredKind, Arc<Value>)> {
        let state = self.lock();
        let mut all: Vec<_> = state
            .kinds
            .values()
            .flat_map(|ks| {
                ks.objects
                    .values()
                    .map(|s| (ks.kind.clone(), s.object.clone()))
            })
            .collect();
        all.sort_by(|a, b| {
            (a.0.group.as_str(), a.0.kind.as_str()).cmp(&(b.0.group.as_str(), b.0.kind.as_str()))
        });
        all
    }

    /// Creates or updates an untyped object (as `strait apply` sends it).
    /// `apiVersion`, `kind` and `metadata.name` are required.
    pub fn apply_json(&self, object: Value, field_manager: &str) -> Result<Value, StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        self.apply_value(object, field_manager, true)
            .map(|v| (*v).clone())
    }

    /// Makes the store check every object of the kind `definition` defines
    /// against its schema, as the API server does once the definition is
    /// installed, without storing the definition itself: how a cluster that
    /// has strait's CustomResourceDefinitions installed is started. Applying
    /// a CustomResourceDefinition object does the same.
    pub fn register_definition(
        &self,
        definition: &CustomResourceDefinition,
    ) -> Result<(), StoreError> {
        let name = definition.metadata.name.clone().unwrap_or_default();
        let invalid = |reason: String| StoreError::Invalid {
            what: format!("customresourcedefinitions {name:?}"),
            reason,
        };
        let value = serde_json::to_value(definition).map_err(|e| invalid(e.to_string()))?;
        let parsed = schema::Definition::from_crd(&value).map_err(|e| invalid(e.to_string()))?;
        let mut state = self.lock();
        define(&mut state, parsed);
        Ok(())
    }

    /// Deletes an object named untyped (as `strait delete` does).
    pub fn delete_ref(&self, object: &ObjectRef) -> Result<(), StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        delete_locked(&mut state, &object.kind, &object.namespace, &object.name)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock()
    }
}

/// Records a definition; a kind with no objects yet takes its plural and
/// scope from it.
fn define(state: &mut State, definition: schema::Definition) {
    let key = (definition.kind.group.clone(), definition.kind.kind.clone());
    match state.kinds.get_mut(&key) {
        Some(ks) if ks.objects.is_empty() => ks.kind = definition.kind.clone(),
        Some(_) => {}
        None => {
            kind_state(&mut state.kinds, &definition.kind);
        }
    }
    state.definitions.insert(key, definition);
}

fn is_service(kind: &StoredKind) -> bool {
    kind.group.is_empty() && kind.kind == "Service"
}

fn namespace_exists(state: &State, namespace: &str) -> bool {
    state
        .kinds
        .get(&(String::new(), "Namespace".to_string()))
        .is_some_and(|ks| {
            ks.objects
                .contains_key(&(String::new(), namespace.to_string()))
        })
}

fn kind_state<'a>(
    kinds: &'a mut HashMap<(String, String), KindState>,
    kind: &StoredKind,
) -> &'a mut KindState {
    kinds
        .entry((kind.group.clone(), kind.kind.clone()))
        .or_insert_with(|| KindState {
            kind: kind.clone(),
            objects: BTreeMap::new(),
            changes: broadcast::channel(WATCH_BUFFER).0,
            history: VecDeque::new(),
            // No object of the kind was ever written: nothing was missed.
            history_from: 0,
        })
}

fn delete_locked(
    state: &mut State,
    kind: &StoredKind,
    namespace: &str,
    name: &str,
) -> Result<(), StoreError> {
    let what = ObjectRef {
        kind: kind.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    let revision = state.revision + 1;
    let State {
        kinds, cluster_ips, ..
    } = &mut *state;
    let ks = kinds
        .get_mut(&(kind.group.clone(), kind.kind.clone()))
        .ok_or_else(|| StoreError::NotFound {
            what: what.to_string(),
        })?;
    let stored = ks
        .objects
        .remove(&(namespace.to_string(), name.to_string()))
        .ok_or_else(|| StoreError::NotFound {
            what: what.to_string(),
        })?;
    if is_service(kind)
        && let Some(ip) = stored.object["spec"]["clusterIP"].as_str()
    {
        cluster_ips.release(ip);
    }
    let mut last = (*stored.object).clone();
    if let Some(meta) = last.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert(
            "resourceVersion".into(),
            Value::String(revision.to_string()),
        );
    }
    ks.record(Change {
        revision,
        previous: Some(stored.object.clone()),
        current: Arc::new(last),
        deleted: true,
    });
    state.revision = revision;
    // Deleting a namespace deletes everything in it.
    if kind.group.is_empty() && kind.kind == "Namespace" {
        let inside: Vec<(StoredKind, String)> = state
            .kinds
            .values()
            .filter(|ks| ks.kind.namespaced)
            .flat_map(|ks| {
                ks.objects
                    .keys()
                    .filter(|(ns, _)| ns == name)
                    .map(|(_, n)| (ks.kind.clone(), n.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (kind, object) in inside {
            delete_locked(state, &kind, name, &object)?;
        }
    }
    Ok(())
}

fn decode<K: StoredObject>(value: &Value) -> Result<K, StoreError> {
    serde_json::from_value(value.clone()).map_err(|e| StoreError::Invalid {
        what: describe(value),
        reason: e.to_string(),
    })
}

/// `links "east" in linkerd`, from an object's own fields.
pub(crate) fn describe(value: &Value) -> String {
    let kind = value["kind"].as_str().unwrap_or("object");
    let name = value["metadata"]["name"].as_str().unwrap_or("");
    match value["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{kind} {name:?} in {ns}"),
        None => format!("{kind} {name:?}"),
    }
}

impl ClusterStore for MemoryStore {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        watch::watch::<K>(self.clone(), StoredKind::of::<K>(), params)
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        let kind = StoredKind::of::<K>();
        let value = {
            let state = self.lock();
            state
                .kinds
                .get(&(kind.group.clone(), kind.kind.clone()))
                .and_then(|ks| {
                    ks.objects
                        .get(&(scoped(&kind, namespace), name.to_string()))
                })
                .map(|s| s.object.clone())
        };
        value.map(|v| decode::<K>(&v)).transpose()
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<K, StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let kind = StoredKind::of::<K>();
        let value = serde_json::to_value(object).map_err(|e| StoreError::Invalid {
            what: format!("{} object", kind.kind),
            reason: e.to_string(),
        })?;
        {
            let mut state = self.lock();
            kind_state(&mut state.kinds, &kind);
        }
        let stored = self.apply_value(value, field_manager, true)?;
        decode(&stored)
    }

    async fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> Result<K, StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let kind = StoredKind::of::<K>();
        let key = (scoped(&kind, namespace), name.to_string());
        let what = ObjectRef {
            kind: kind.clone(),
            namespace: key.0.clone(),
            name: name.to_string(),
        };
        let mut state = self.lock();
        let revision = state.revision + 1;
        let ks = kind_state(&mut state.kinds, &kind);
        let stored = ks
            .objects
            .get_mut(&key)
            .ok_or_else(|| StoreError::NotFound {
                what: what.to_string(),
            })?;
        let mut next = (*stored.object).clone();
        if let Some(map) = next.as_object_mut() {
            merge::merge_patch(map.entry("status").or_insert(Value::Null), &status);
        }
        if next == *stored.object {
            return decode(&next);
        }
        if let Some(meta) = next.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert(
                "resourceVersion".into(),
                Value::String(revision.to_string()),
            );
        }
        let previous = std::mem::replace(&mut stored.object, Arc::new(next));
        let current = stored.object.clone();
        ks.record(Change {
            revision,
            previous: Some(previous),
            current: current.clone(),
            deleted: false,
        });
        state.revision = revision;
        drop(state);
        decode(&current)
    }

    async fn delete<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<(), StoreError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let kind = StoredKind::of::<K>();
        let mut state = self.lock();
        delete_locked(&mut state, &kind, &scoped(&kind, namespace), name)
    }
}

/// The namespace key of an object: empty for cluster-scoped kinds.
fn scoped(kind: &StoredKind, namespace: &str) -> String {
    if kind.namespaced {
        namespace.to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests;
