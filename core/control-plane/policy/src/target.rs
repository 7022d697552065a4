//! What an AuthorizationPolicy's `targetRef` names, read once so that the
//! candidates of servers and routes and the report of ignored policies
//! agree on it.

use strait_api::gateway::GROUP as GATEWAY_GROUP;
use strait_api::policy::{AuthorizationPolicySpec, GROUP as POLICY_GROUP};

use crate::route::HTTP_ROUTE_KIND;

/// The target of an AuthorizationPolicy, in the policy's own namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyTarget<'a> {
    /// A Server: every request and connection it takes.
    Server(&'a str),
    /// A Namespace: every Server in it, when it is the policy's own.
    Namespace(&'a str),
    /// An HTTPRoute of either group: the requests that route takes.
    HttpRoute {
        /// `policy.linkerd.io` or `gateway.networking.k8s.io`.
        group: &'static str,
        /// The route's name.
        name: &'a str,
    },
    /// Any other kind or group, which no policy server of this version
    /// applies (a GRPCRoute, a typo in the group).
    Unsupported {
        /// The group as written, empty when unset.
        group: &'a str,
        /// The kind as written.
        kind: &'a str,
    },
}

/// What `spec.targetRef` names; kinds compare without regard to case, as
/// Linkerd compares them, groups exactly.
pub(crate) fn policy_target(spec: &AuthorizationPolicySpec) -> PolicyTarget<'_> {
    let target = &spec.target_ref;
    let group = target.group.as_deref().unwrap_or("");
    let kind = target.kind.as_str();
    let name = target.name.as_str();
    let is = |want: &str| kind.eq_ignore_ascii_case(want);
    if group == POLICY_GROUP && is("Server") {
        PolicyTarget::Server(name)
    } else if group.is_empty() && is("Namespace") {
        PolicyTarget::Namespace(name)
    } else if group == POLICY_GROUP && is(HTTP_ROUTE_KIND) {
        PolicyTarget::HttpRoute {
            group: POLICY_GROUP,
            name,
        }
    } else if group == GATEWAY_GROUP && is(HTTP_ROUTE_KIND) {
        PolicyTarget::HttpRoute {
            group: GATEWAY_GROUP,
            name,
        }
    } else {
        PolicyTarget::Unsupported { group, kind }
    }
}
