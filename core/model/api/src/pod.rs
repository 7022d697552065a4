//! What a Pod says of itself that several parts read the same way: the
//! workloads it belongs to and whether it is ready.

use k8s_openapi::api::core::v1::Pod;

/// The label the ReplicaSet controller puts on its Pods: the hash of the
/// template they were made from, also the suffix of the ReplicaSet's name.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The label the StatefulSet controller puts on each of its Pods with the
/// Pod's own name, so a Service can select one member of the set.
pub const STATEFULSET_POD_NAME: &str = "statefulset.kubernetes.io/pod-name";

/// The label the StatefulSet controller puts on its Pods naming the
/// revision (`<set>-<template hash>`) they were made from, so a rolling
/// update knows which Pods are outdated.
pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";

/// The label the StatefulSet controller puts on its Pods with their
/// ordinal.
pub const POD_INDEX: &str = "apps.kubernetes.io/pod-index";

/// The Deployment a Pod belongs to, as the ReplicaSet controller names
/// things: a controlling ReplicaSet owner whose name is the Deployment's
/// plus `-` and the Pod's `pod-template-hash`.
pub fn deployment_of(pod: &Pod) -> Option<String> {
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true) && o.kind == "ReplicaSet")?;
    let hash = pod.metadata.labels.as_ref()?.get(POD_TEMPLATE_HASH)?;
    owner
        .name
        .strip_suffix(hash.as_str())
        .and_then(|d| d.strip_suffix('-'))
        .filter(|d| !d.is_empty())
        .map(str::to_string)
}

/// The name of the Pod's controlling owner of `kind` (`ReplicaSet`,
/// `StatefulSet`, ...), as `viz stat rs` and `viz stat sts` group pods.
pub fn controller_of(pod: &Pod, kind: &str) -> Option<String> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true) && o.kind == kind)
        .map(|o| o.name.clone())
        .filter(|name| !name.is_empty())
}

/// Whether the Pod's `Ready` condition is true.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

#[cfg(test)]
mod tests;
