//! Naming kinds and objects of stored types as the store does.

use strait_store::{ObjectRef, StoredKind, StoredObject};

/// The kind of `K` as the store names it.
pub(crate) fn kind_of<K: StoredObject>() -> StoredKind {
    StoredKind::of::<K>()
}

/// One object of kind `K`, as errors name it (`services "bb" in mc-demo`);
/// the namespace is dropped for cluster-scoped kinds.
pub(crate) fn object_ref<K: StoredObject>(namespace: &str, name: &str) -> ObjectRef {
    let kind = kind_of::<K>();
    ObjectRef {
        namespace: if kind.namespaced {
            namespace.to_string()
        } else {
            String::new()
        },
        kind,
        name: name.to_string(),
    }
}
