//! Resources that are valid but point at nothing: a Server whose port names
//! no container port of the pods it selects, an AuthorizationPolicy whose
//! target does not exist, an HTTPRoute whose parent Server does not. The API server accepts both, and both silently
//! change nothing, so they are reported with the ignored resources.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::gateway::GROUP as GATEWAY_GROUP;
use strait_api::policy::GROUP as POLICY_GROUP;

use super::Index;
use crate::authn::{AUTHENTICATION_VERSION, Ignored};
use crate::route::{HTTP_ROUTE_KIND, RouteKey};
use crate::target::{PolicyTarget, policy_target};

/// Every Server, AuthorizationPolicy and HTTPRoute that points at nothing,
/// and why.
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
                api_version: "policy.linkerd.io/v1beta3",
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
    out.extend(unmatched_policies(index));
    out.extend(unmatched_routes(index));
    out
}

/// AuthorizationPolicies whose target does not exist or is of a kind this
/// index does not apply.
fn unmatched_policies(index: &Index) -> Vec<Ignored> {
    let mut out = Vec::new();
    for ((namespace, name), spec) in &index.store.policies {
        let reason = match policy_target(spec) {
            PolicyTarget::Server(server) => {
                let key = (namespace.clone(), server.to_string());
                (!index.servers.contains_key(&key)).then(|| {
                    format!(
                        "spec.targetRef: Server {namespace}/{server} does not exist, so it admits \
                         no one"
                    )
                })
            }
            PolicyTarget::Namespace(target) => (target != namespace).then(|| {
                format!(
                    "spec.targetRef: Namespace {target:?} is not the policy's own namespace \
                     {namespace:?}, so it admits no one"
                )
            }),
            PolicyTarget::HttpRoute { group, name: route } => {
                let key = RouteKey {
                    namespace: namespace.clone(),
                    group,
                    name: route.to_string(),
                };
                (!index.routes.contains_key(&key)).then(|| {
                    format!(
                        "spec.targetRef: HTTPRoute {namespace}/{route} (group {group}) does not \
                         exist, so it admits no one"
                    )
                })
            }
            PolicyTarget::Unsupported { group, kind } => Some(format!(
                "spec.targetRef: a {kind} (group {group:?}) target is not supported by this \
                 policy server (only a Server, an HTTPRoute of group {POLICY_GROUP} or \
                 {GATEWAY_GROUP}, or the policy's Namespace), so it admits no one"
            )),
        };
        if let Some(reason) = reason {
            out.push(Ignored {
                kind: "AuthorizationPolicy",
                api_version: AUTHENTICATION_VERSION,
                namespace: namespace.clone(),
                name: name.clone(),
                reason,
            });
        }
    }
    out
}

/// HTTPRoutes naming a Server that does not exist, or one of another
/// namespace (a route attaches only to Servers of its own): for that
/// parent the route applies to no port.
fn unmatched_routes(index: &Index) -> Vec<Ignored> {
    let mut out = Vec::new();
    for (key, info) in &index.routes {
        for parent in &info.servers {
            let field = format!("spec.parentRefs[{}]", parent.index);
            let server = format!("Server {}/{}", parent.namespace, parent.name);
            let reason = if parent.namespace != key.namespace {
                format!(
                    "{field}: {server} is not in the route's namespace {:?}, and a route \
                     attaches only to Servers of its own namespace",
                    key.namespace
                )
            } else if !index
                .servers
                .contains_key(&(parent.namespace.clone(), parent.name.clone()))
            {
                format!("{field}: {server} does not exist, so the route applies to no port there")
            } else {
                continue;
            };
            out.push(Ignored {
                kind: HTTP_ROUTE_KIND,
                api_version: route_api_version(key.group),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                reason,
            });
        }
    }
    out
}

/// The `apiVersion` of an HTTPRoute of `group`, as strait reads it.
fn route_api_version(group: &str) -> &'static str {
    if group == GATEWAY_GROUP {
        "gateway.networking.k8s.io/v1"
    } else {
        "policy.linkerd.io/v1beta3"
    }
}
