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
    let mut routes = Vec::new();
    if let Some(paths) = pod.probe_paths.get(&port).filter(|p| !p.is_empty()) {
        let mut probe: Vec<Authorization> = vec![probe_authorization(&index.config)];
        probe.extend(authorizations.iter().cloned());
        routes.push(InboundRoute {
            reference: default_ref("probe"),
            paths: paths.iter().cloned().collect(),
            authorizations: CandidateSet::new(probe),
        });
    }
    routes.push(InboundRoute {
        reference: default_ref("default"),
        paths: Vec::new(),
        authorizations: CandidateSet::new(authorizations.clone()),
    });
    InboundPolicy {
        server: reference,
        protocol,
        authorizations: CandidateSet::new(authorizations),
        routes,
    }
}
