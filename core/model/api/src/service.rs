//! What a Service says of itself that several parts read the same way:
//! whether it is headless, and which hostname a Pod has under it.

use k8s_openapi::api::core::v1::{Pod, Service};

/// The `clusterIP` of a headless Service: no virtual address, the Service's
/// name resolves to its Pods, and each Pod with a hostname gets a name of
/// its own (`<hostname>.<service>.<namespace>.svc.<cluster domain>`).
pub const CLUSTER_IP_NONE: &str = "None";

/// The label the endpoints controller puts on the Endpoints (and
/// EndpointSlices) of a headless Service, by which Linkerd's service mirror
/// tells them apart.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

/// Whether the Service is headless (`clusterIP: None`).
pub fn is_headless(service: &Service) -> bool {
    service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some(CLUSTER_IP_NONE)
}

/// The hostname `pod` has among `service`'s endpoints, as the endpoints
/// controllers set it: the Pod's `spec.hostname` when its `spec.subdomain`
/// names the Service, in the Service's namespace (a StatefulSet's Pods,
/// under the set's `serviceName`).
pub fn pod_hostname(pod: &Pod, service: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    let same_namespace = pod.metadata.namespace == service.metadata.namespace;
    let under_service = spec.subdomain.is_some() && spec.subdomain == service.metadata.name;
    (same_namespace && under_service).then(|| hostname.to_string())
}

#[cfg(test)]
mod tests;
