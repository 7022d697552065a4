//! Resources that are valid but point at nothing: a Server whose port names
//! no container port of the pods it selects, an AuthorizationPolicy whose
//! target does not exist. The API server accepts both, and both silently
//! change nothing, so they are reported with the ignored resources.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::policy::GROUP;

use super::Index;
use crate::authn::Ignored;

/// Every Server and AuthorizationPolicy that points at nothing, and why.
pub(super) fn unmatched(index: &Index) -> Vec<Ignored> {
    let mut out = Vec::new();
    for ((namespace, name), server) in &index.servers {
        let IntOrString::String(port) = &server.port else {
            // A number is a port whether or not a container declares it.
            continue;
        };
        let Some(selector) = &server.pod_selector else {
            continue;
        };
        let mut selected = index
            .pods
            .iter()
            .filter(|((ns, _), entry)| ns == namespace && selector.matches(&entry.info.labels))
            .peekable();
        // Until a pod is selected there is nothing to compare with: the
        // pods may simply not exist yet.
        if selected.peek().is_none() {
            continue;
        }
        if selected
            .clone()
            .all(|(_, entry)| !entry.info.named_ports.contains_key(port))
        {
            let mut pods: Vec<&str> = selected.map(|((_, pod), _)| pod.as_str()).collect();
            pods.truncate(3);
            out.push(Ignored {
                kind: "Server",
                namespace: namespace.clone(),
                name: name.clone(),
                reason: format!(
                    "spec.port {port:?} names no container port of the pods it selects \
                     (e.g. {}), so it applies to no port",
                    pods.join(", ")
                ),
            });
        }
    }
    for ((namespace, name), spec) in &index.store.policies {
        let target = &spec.target_ref;
        let group = target.group.as_deref().unwrap_or("");
        let kind = target.kind.as_str();
        let reason = if group == GROUP && kind.eq_ignore_ascii_case("Server") {
            let key = (namespace.clone(), target.name.clone());
            (!index.servers.contains_key(&key)).then(|| {
                format!(
                    "spec.targetRef: Server {namespace}/{} does not exist, so it admits no one",
                    target.name
                )
            })
        } else if group.is_empty() && kind.eq_ignore_ascii_case("Namespace") {
            (target.name != *namespace).then(|| {
                format!(
                    "spec.targetRef: Namespace {:?} is not the policy's own namespace {namespace:?}, \
                     so it admits no one",
                    target.name
                )
            })
        } else {
            Some(format!(
                "spec.targetRef: a {kind} (group {group:?}) target is not supported by this \
                 policy server (only a Server or the policy's Namespace), so it admits no one"
            ))
        };
        if let Some(reason) = reason {
            out.push(Ignored {
                kind: "AuthorizationPolicy",
                namespace: namespace.clone(),
                name: name.clone(),
                reason,
            });
        }
    }
    out
}
