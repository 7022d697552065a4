//! Writing to an embedded `MemoryStore`, as a test sets up a cluster.
//!
//! `MemoryStore::apply_json` returns a `Result` a test can only unwrap; a
//! fixture the store refuses is a broken test, so these panic with the
//! object and the store's reason.

use serde_json::Value;
use strait_store::{ClusterStore, MemoryStore, ObjectRef, StoredObject};

/// The field manager tests write as.
const MANAGER: &str = "test";

/// Applies `object` (JSON, or a builder of [`crate::objects`]) to `store`.
pub fn apply(store: &MemoryStore, object: impl Into<Value>) {
    let object = object.into();
    let named = format!("{} {}", object["kind"], object["metadata"]["name"]);
    if let Err(e) = store.apply_json(object, MANAGER) {
        panic!("applying {named} failed: {e}");
    }
}

/// Applies `object` (a `K`), then writes its `status` through the status
/// subresource: apply leaves status alone, as on the API server, so a pod
/// built with an IP or a phase gets them only as the kubelet's report
/// would give them.
pub async fn apply_with_status<K: StoredObject>(store: &MemoryStore, object: impl Into<Value>) {
    let object = object.into();
    let status = object.get("status").cloned();
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    apply(store, object);
    if let Some(status) = status
        && let Err(e) = ClusterStore::patch_status::<K>(store, &namespace, &name, status).await
    {
        panic!("writing the status of {namespace}/{name} failed: {e}");
    }
}

/// Applies each of `objects`, in order.
pub fn apply_all(store: &MemoryStore, objects: impl IntoIterator<Item = Value>) {
    for object in objects {
        apply(store, object);
    }
}

/// Creates the namespaces `names`: a namespaced object needs its
/// namespace to exist, as on the API server.
pub fn namespaces(store: &MemoryStore, names: &[&str]) {
    for name in names {
        apply(store, crate::objects::namespace(name));
    }
}

/// Deletes the `K` named `name` in `namespace`, which must exist.
pub async fn delete<K: StoredObject>(store: &MemoryStore, namespace: &str, name: &str) {
    if let Err(e) = ClusterStore::delete::<K>(store, namespace, name).await {
        panic!("deleting {namespace}/{name} failed: {e}");
    }
}

/// Deletes the object of kind `kind` (e.g. `AuthorizationPolicy`) named
/// `name` in `namespace`, for kinds a test knows by name only. The store
/// must hold an object of that kind.
pub fn delete_named(store: &MemoryStore, kind: &str, namespace: &str, name: &str) {
    let Some(stored) = store
        .objects()
        .into_iter()
        .map(|(stored, _)| stored)
        .find(|stored| stored.kind == kind)
    else {
        panic!("no {kind} stored");
    };
    let object = ObjectRef {
        kind: stored,
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    if let Err(e) = store.delete_ref(&object) {
        panic!("deleting {kind} {namespace}/{name} failed: {e}");
    }
}

#[cfg(test)]
mod tests;
