//! What strait's controllers of a local cluster (policy, destination, the
//! service mirrors, the plugin follower) read and write their own cluster
//! through: the embedded store in-process (the default), or the cluster's
//! Kubernetes API over HTTPS with kube's client, exactly as they run on a
//! Kubernetes cluster (`strait local up --controllers-via-api`), so the
//! production path of every controller runs on one machine too.

use futures::stream::BoxStream;
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, StoredObject, WatchParams};
use strait_store_kube::KubeStore;

/// A cluster as its controllers reach it.
#[derive(Clone, Debug)]
pub enum ControllerStore {
    /// The embedded store, in-process.
    Memory(MemoryStore),
    /// The cluster's API, through kube's client.
    Api(KubeStore),
}

impl ClusterStore for ControllerStore {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        match self {
            ControllerStore::Memory(s) => s.watch(params),
            ControllerStore::Api(s) => s.watch(params),
        }
    }

    async fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        match self {
            ControllerStore::Memory(s) => s.get(namespace, name).await,
            ControllerStore::Api(s) => s.get(namespace, name).await,
        }
    }

    async fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> Result<K, StoreError> {
        match self {
            ControllerStore::Memory(s) => s.apply(object, field_manager).await,
            ControllerStore::Api(s) => s.apply(object, field_manager).await,
        }
    }

    async fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: serde_json::Value,
    ) -> Result<K, StoreError> {
        match self {
            ControllerStore::Memory(s) => s.patch_status(namespace, name, status).await,
            ControllerStore::Api(s) => s.patch_status(namespace, name, status).await,
        }
    }

    async fn delete<K: StoredObject>(&self, namespace: &str, name: &str) -> Result<(), StoreError> {
        match self {
            ControllerStore::Memory(s) => s.delete::<K>(namespace, name).await,
            ControllerStore::Api(s) => s.delete::<K>(namespace, name).await,
        }
    }
}
