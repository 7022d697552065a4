//! What makes a pod meshed: it runs the proxy container.
//!
//! This is Linkerd's rule, and the only one that holds wherever a pod came
//! from. The `linkerd.io/inject` annotation is a request for a proxy, read
//! by the injector alone: it is often set on the namespace rather than the
//! pod, and a pod created before injection was enabled (or whose injection
//! failed) carries it without a proxy. Announcing an identity for such a
//! pod would make every client's TLS handshake fail; the container is what
//! guarantees something terminates TLS there.

use k8s_openapi::api::core::v1::{Pod, PodSpec};

use strait_mesh::names::PROXY_CONTAINER;

/// Whether `pod` runs the proxy, as a container or as a native sidecar
/// (an init container that keeps running). A pod without a spec has none.
pub fn is_meshed(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(is_meshed_spec)
}

/// [`is_meshed`] for a pod spec (a Pod's, or a workload's pod template).
pub fn is_meshed_spec(spec: &PodSpec) -> bool {
    has_proxy_container(
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .map(|c| c.name.as_str()),
    )
}

/// The rule on the names of a pod's containers and init containers, for
/// callers that hold the pod as untyped data (the injector edits YAML as
/// it came, to keep every field it does not own).
pub fn has_proxy_container<'a>(container_names: impl IntoIterator<Item = &'a str>) -> bool {
    container_names
        .into_iter()
        .any(|name| name == PROXY_CONTAINER)
}

#[cfg(test)]
mod tests;
