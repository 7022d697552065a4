//! How controllers key the namespaced objects they keep in memory.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A namespaced object's identity within one cluster and kind: its
/// namespace, then its name.
///
/// A plain pair rather than a struct, so indexes sort by namespace first
/// (every object of a namespace is one range of a `BTreeMap`) and callers
/// destructure it as `(namespace, name)` without accessors. The kind is not
/// part of it: each index keeps one map per kind.
pub type Key = (String, String);

/// The key of the object `meta` describes. A missing namespace or name
/// (a cluster-scoped object, or one the store never named) reads as empty
/// rather than failing, since the store hands out named objects and an
/// index has nothing better to file an unnamed one under.
pub fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests;
