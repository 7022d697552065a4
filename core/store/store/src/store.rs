//! The interface controllers use.

use std::future::Future;

use futures::stream::BoxStream;
use kube::core::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use strait_decisions::selector::LabelSelector;

use crate::error::StoreError;
use crate::event::Event;
use crate::object::ScopeInfo;

/// What to watch: one namespace or all, and a label selector (Kubernetes
/// semantics: the empty selector matches everything).
#[derive(Clone, Debug, Default)]
pub struct WatchParams {
    /// Only this namespace; `None` for all (and for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// Only objects whose labels match.
    pub labels: LabelSelector,
}

impl WatchParams {
    /// Every object of the kind.
    pub fn all() -> Self {
        WatchParams::default()
    }

    /// Objects carrying `key=value`.
    pub fn labelled(key: &str, value: &str) -> Self {
        WatchParams {
            namespace: None,
            labels: LabelSelector::from_labels([(key, value)]),
        }
    }
}

/// Bounds every stored type satisfies: a kube resource without a dynamic
/// type (k8s-openapi's types and strait's CRDs), serializable both ways.
pub trait StoredObject:
    Resource<DynamicType = (), Scope: ScopeInfo>
    + Clone
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl<K> StoredObject for K where
    K: Resource<DynamicType = (), Scope: ScopeInfo>
        + Clone
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// A cluster's objects, as controllers see them. Implemented by the embedded
/// [`crate::MemoryStore`] and by the Kubernetes backend; controllers are
/// generic over it and cannot tell which one they run against.
pub trait ClusterStore: Clone + Send + Sync + 'static {
    /// The objects of kind `K` matching `params`, first as a `Reset` with the
    /// current set, then as changes. After a gap (a dropped connection, an
    /// expired resourceVersion, a slow consumer) the stream resumes with a
    /// fresh `Reset`, so nothing is lost. Objects that cannot be read as `K`
    /// are logged and skipped; they never end the stream.
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>>;

    /// One object, if it exists.
    fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<K>, StoreError>> + Send;

    /// Creates or updates `object` by server-side apply as `field_manager`:
    /// the fields it sets become this manager's; fields this manager set
    /// before and now omits are removed; other managers' fields stay. A
    /// namespaced object needs its namespace to exist. A
    /// `metadata.resourceVersion` in `object` is a precondition, as on the
    /// API server: if the object exists at another version the write fails
    /// with `Conflict` and changes nothing (optimistic concurrency, e.g. for
    /// leader election); without one the write is unconditional. Returns the
    /// stored object (with resourceVersion, and e.g. an allocated ClusterIP).
    fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> impl Future<Output = Result<K, StoreError>> + Send;

    /// Replaces the `status` of an existing object (the status subresource);
    /// the rest of the object is untouched.
    fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: serde_json::Value,
    ) -> impl Future<Output = Result<K, StoreError>> + Send;

    /// Deletes an object. Deleting what does not exist is `NotFound`.
    fn delete<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
