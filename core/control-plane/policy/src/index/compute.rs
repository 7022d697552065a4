//! One port's policy, computed from the index's current resources.

use strait_api::policy::GROUP;
use strait_decisions::authz::{Authorization, CandidateSet, Protocol, ResourceRef};

use super::Index;
use crate::authn;
use crate::defaults::{
    default_ref, localhost_authorization, policy_authorizations, probe_authorization,
};
use crate::inbound::{InboundPolicy, InboundRoute};
use crate::pod::PodInfo;
use crate::route::{HTTP_ROUTE_KIND, RouteInfo, RouteKey, probe_match};

/// The policy of one pod port from the current resources.
pub(super) fn compute(index: &Index, namespace: &str, pod: &PodInfo, port: u16) -> InboundPolicy {
    let server = index
        .servers
        .iter()
        .filter(|((ns, _), s)| {
            ns == namespace
                && pod.resolve_port(&s.port) == Some(port)
                && s.pod_selector
                    .as_ref()
                    .is_some_and(|sel| sel.matches(&pod.labels))
        })
        .min_by_key(|((_, name), s)| (s.created.is_none(), s.created.clone(), name.clone()));
    let (reference, protocol, mut authorizations) = match server {
        Some(((_, name), info)) => {
            let mut authzs = authn::server_authorizations(
                &index.store,
                namespace,
                name,
                &info.labels,
                &index.config,
            );
            authzs.extend(policy_authorizations(info.access_policy, &index.config));
            (
                ResourceRef::new(GROUP, "server", name.as_str()),
                info.protocol,
                authzs,
            )
        }
        None => {
            let policy = pod.default_policy.unwrap_or(index.config.default_policy);
            let authzs = policy_authorizations(policy, &index.config);
            (default_ref(policy.as_str()), Protocol::Unknown, authzs)
        }
    };
    authorizations.extend(localhost_authorization(&index.config));
    let attached = match server {
        // gRPC servers are routed by GRPCRoutes, which strait does not
        // read yet, so HTTPRoutes leave them on the default routes, as
        // Linkerd leaves a gRPC server without GRPCRoutes.
        Some(((_, name), _)) if protocol != Protocol::Grpc => {
            http_routes(index, namespace, name, &authorizations)
        }
        _ => Vec::new(),
    };
    let routes = if attached.is_empty() {
        default_routes(index, pod, port, &authorizations)
    } else {
        attached
    };
    InboundPolicy {
        server: reference,
        protocol,
        authorizations: CandidateSet::new(authorizations),
        routes,
    }
}

/// The HTTPRoutes attached to Server `server`, oldest first (ties by name),
/// each with the authorizations that target it before the server's.
fn http_routes(
    index: &Index,
    namespace: &str,
    server: &str,
    server_authorizations: &[Authorization],
) -> Vec<InboundRoute> {
    let mut attached: Vec<(&RouteKey, &RouteInfo)> = index
        .routes
        .iter()
        .filter(|(key, info)| key.namespace == namespace && info.attaches_to(namespace, server))
        .collect();
    attached.sort_by_key(|(key, info)| (info.created.is_none(), info.created.clone(), *key));
    attached
        .into_iter()
        .map(|(key, info)| {
            let mut candidates = authn::route_authorizations(&index.store, key, &index.config);
            candidates.extend(server_authorizations.iter().cloned());
            InboundRoute {
                reference: ResourceRef::new(key.group, HTTP_ROUTE_KIND, key.name.as_str()),
                hosts: info.hosts.clone(),
                matches: info.matches.clone(),
                authorizations: CandidateSet::new(candidates),
            }
        })
        .collect()
}

/// The routes of a port without HTTPRoutes: its probe paths, admitted from
/// the probe networks whatever the policy, and everything else.
fn default_routes(
    index: &Index,
    pod: &PodInfo,
    port: u16,
    authorizations: &[Authorization],
) -> Vec<InboundRoute> {
    let mut routes = Vec::new();
    if let Some(paths) = pod.probe_paths.get(&port).filter(|p| !p.is_empty()) {
        let mut probe: Vec<Authorization> = vec![probe_authorization(&index.config)];
        probe.extend(authorizations.iter().cloned());
        routes.push(InboundRoute {
            reference: default_ref("probe"),
            hosts: Vec::new(),
            matches: paths.iter().map(|p| probe_match(p)).collect(),
            authorizations: CandidateSet::new(probe),
        });
    }
    routes.push(InboundRoute {
        reference: default_ref("default"),
        hosts: Vec::new(),
        matches: Vec::new(),
        authorizations: CandidateSet::new(authorizations.to_vec()),
    });
    routes
}
