//! Proxy injection, as Linkerd's injector does it when a Pod is created: a
//! `linkerd-proxy` container and the annotations that say which proxy runs.
//!
//! The container matters beyond the kubelet: the destination and policy
//! indexes treat a Pod as meshed exactly when it has one.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ContainerPort, Pod};
use strait_api::labels::INJECT;

/// The proxy container's name, as Linkerd's injector names it.
pub(crate) const PROXY_CONTAINER: &str = "linkerd-proxy";
/// Linkerd's init container, which has nothing to do without iptables.
pub(crate) const INIT_CONTAINER: &str = "linkerd-init";
/// The annotation naming the injected proxy's version.
pub(crate) const PROXY_VERSION: &str = "linkerd.io/proxy-version";
/// The proxy's inbound port, as Linkerd's.
pub(crate) const INBOUND_PORT: u16 = 4143;
/// The proxy's outbound port, as Linkerd's.
pub(crate) const OUTBOUND_PORT: u16 = 4140;
/// The proxy's admin port, as Linkerd's.
pub(crate) const ADMIN_PORT: u16 = 4191;

/// The version the proxy reports in [`PROXY_VERSION`].
pub(crate) fn proxy_version() -> String {
    format!("strait-{}", env!("CARGO_PKG_VERSION"))
}

/// Whether a Pod is injected: the Pod template's `linkerd.io/inject` wins
/// (`enabled` or `ingress` inject, `disabled` does not), else the
/// Namespace's.
pub(crate) fn wants_proxy(
    pod_annotations: Option<&BTreeMap<String, String>>,
    namespace_annotations: Option<&BTreeMap<String, String>>,
) -> bool {
    let setting = |annotations: Option<&BTreeMap<String, String>>| {
        annotations
            .and_then(|a| a.get(INJECT))
            .map(|v| matches!(v.trim(), "enabled" | "ingress"))
    };
    setting(pod_annotations)
        .or_else(|| setting(namespace_annotations))
        .unwrap_or(false)
}

/// Whether a Pod has a proxy: what the kubelet and the indexes go by.
pub(crate) fn has_proxy(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(|spec| {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .any(|c| c.name == PROXY_CONTAINER)
    })
}

/// Adds the proxy container, its annotations and Linkerd's labels to a Pod
/// about to be created for `deployment`; a Pod that has one already is left
/// as it is.
pub(crate) fn inject(pod: &mut Pod, control_plane_ns: &str, deployment: Option<&str>) {
    if has_proxy(pod) {
        return;
    }
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    spec.containers.push(Container {
        name: PROXY_CONTAINER.into(),
        image: Some(strait_api::image::default_image()),
        ports: Some(vec![
            ContainerPort {
                name: Some("linkerd-proxy".into()),
                container_port: i32::from(INBOUND_PORT),
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some("linkerd-admin".into()),
                container_port: i32::from(ADMIN_PORT),
                ..ContainerPort::default()
            },
        ]),
        ..Container::default()
    });
    let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(PROXY_VERSION.into(), proxy_version());
    annotations.insert("linkerd.io/created-by".into(), "strait local".into());
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(
        "linkerd.io/control-plane-ns".into(),
        control_plane_ns.to_string(),
    );
    labels.insert("linkerd.io/workload-ns".into(), namespace);
    if let Some(deployment) = deployment {
        labels.insert("linkerd.io/proxy-deployment".into(), deployment.to_string());
    }
}

#[cfg(test)]
mod tests;
