//! Typed Kubernetes objects, for tests that write through `ClusterStore`
//! (which takes k8s-openapi types) rather than JSON.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

/// Metadata naming an object: `name`, in `namespace` when it has one.
pub fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        ..ObjectMeta::default()
    }
}

/// A Namespace.
pub fn namespace(name: &str) -> Namespace {
    Namespace {
        metadata: meta(None, name),
        ..Namespace::default()
    }
}

/// `object` (built with [`crate::objects`]) as the typed object `K`; panics
/// naming the object when it is not one.
pub fn typed<K: serde::de::DeserializeOwned>(object: Value) -> K {
    let named = format!("{} {}", object["kind"], object["metadata"]["name"]);
    match serde_json::from_value(object) {
        Ok(typed) => typed,
        Err(e) => panic!("{named} is not a {}: {e}", std::any::type_name::<K>()),
    }
}

#[cfg(test)]
mod tests;
