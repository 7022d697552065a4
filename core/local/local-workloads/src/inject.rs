//! Proxy injection, as Linkerd's injector does it when a Pod is created:
//! the mesh's proxy container, the volume of its identity token and the
//! annotations that say which proxy runs.
//!
//! The container matters beyond the kubelet: the destination and policy
//! indexes treat a Pod as meshed exactly when it has one
//! ([`strait_sidecar::is_meshed`]).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use strait_api::labels::{
    CONTROL_PLANE_NS, CREATED_BY, INJECT, PROXY_VERSION, WORKLOAD_NS, proxy_owner,
};
use strait_sidecar::{
    ControlPlaneAddrs, ProxyContainer, TrustAnchors, identity_token_volume, is_meshed,
    proxy_version,
};

use crate::ClusterRuntime;

/// The proxy container of `cluster`'s Pods, as its pod specs show it: the
/// cluster's trust anchors and its embedded control plane's address. The
/// kubelet runs each Pod's proxy in-process with the same settings, bound
/// to the Pod's own address (see the kubelet's proxy configuration).
pub(crate) fn proxy(cluster: &ClusterRuntime) -> ProxyContainer {
    ProxyContainer {
        image: strait_api::image::default_image(),
        trust_domain: cluster.trust_domain.clone(),
        trust_anchors: TrustAnchors::Pem(cluster.trust_anchors_pem.clone()),
        control_plane: ControlPlaneAddrs::at(cluster.control_plane),
        gateway: false,
    }
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

/// Adds `proxy`, its token volume, its annotations and Linkerd's labels to
/// a Pod about to be created for `owner` (the workload's kind and name,
/// `("Deployment", "bb")`); a Pod that has a proxy already is left as it is.
pub(crate) fn inject(
    pod: &mut Pod,
    proxy: &ProxyContainer,
    control_plane_ns: &str,
    owner: Option<(&str, &str)>,
) {
    if is_meshed(pod) {
        return;
    }
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    spec.containers.push(proxy.build());
    spec.volumes
        .get_or_insert_with(Vec::new)
        .push(identity_token_volume());
    let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(PROXY_VERSION.into(), proxy_version());
    annotations.insert(CREATED_BY.into(), "strait local".into());
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(CONTROL_PLANE_NS.into(), control_plane_ns.to_string());
    labels.insert(WORKLOAD_NS.into(), namespace);
    if let Some((kind, name)) = owner {
        labels.insert(proxy_owner(kind), name.to_string());
    }
}

#[cfg(test)]
mod tests;
