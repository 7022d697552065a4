//! The built-in authorizations: default policies, probes and loopback.

use strait_decisions::authz::{Authentication, Authorization, ResourceRef};
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::Network;

use crate::config::{DefaultPolicy, IndexConfig};

/// Kind of every built-in server, route and authorization, as metrics show
/// it (`default:all-unauthenticated`, `default/probe`).
pub(crate) const DEFAULT_KIND: &str = "default";

/// A built-in resource reference: no group, kind `default`.
pub(crate) fn default_ref(name: &str) -> ResourceRef {
    ResourceRef::new("", DEFAULT_KIND, name)
}

/// What a default policy admits, named after the policy; none for `deny`.
pub(crate) fn policy_authorizations(
    policy: DefaultPolicy,
    config: &IndexConfig,
) -> Vec<Authorization> {
    let all = || Network::all().to_vec();
    let any_identity = || {
        Authentication::TlsAuthenticated(IdentityMatch {
            identities: Vec::new(),
            suffixes: vec![String::new()],
        })
    };
    let (networks, authentication) = match policy {
        DefaultPolicy::Deny => return Vec::new(),
        DefaultPolicy::AllUnauthenticated | DefaultPolicy::Audit => {
            (all(), Authentication::Unauthenticated)
        }
        DefaultPolicy::AllAuthenticated => (all(), any_identity()),
        DefaultPolicy::ClusterUnauthenticated => (
            config.cluster_networks.clone(),
            Authentication::Unauthenticated,
        ),
        DefaultPolicy::ClusterAuthenticated => (config.cluster_networks.clone(), any_identity()),
    };
    vec![Authorization {
        reference: default_ref(policy.as_str()),
        networks,
        authentication,
    }]
}

/// The authorization of the probe route: kubelet is not meshed, so probes
/// must pass whatever the policy, from the probe networks.
pub(crate) fn probe_authorization(config: &IndexConfig) -> Authorization {
    Authorization {
        reference: default_ref("probe"),
        networks: config.probe_networks.clone(),
        authentication: Authentication::Unauthenticated,
    }
}

/// Loopback clients (the pod's own containers) are always admitted, as
/// Linkerd's proxy admits them whatever the policy; it is appended last so
/// that a policy that also admits them is the one reported. From the
/// config's loopback networks; none when it has none (pods sharing one
/// machine's loopback, where `127.0.0.1` is not the pod's own).
pub(crate) fn localhost_authorization(config: &IndexConfig) -> Option<Authorization> {
    if config.loopback_networks.is_empty() {
        return None;
    }
    Some(Authorization {
        reference: default_ref("localhost"),
        networks: config.loopback_networks.clone(),
        authentication: Authentication::Unauthenticated,
    })
}

#[cfg(test)]
mod tests;
