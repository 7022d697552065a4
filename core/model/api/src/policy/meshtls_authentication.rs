//! `MeshTLSAuthentication` (`policy.linkerd.io/v1alpha1`): clients known by
//! their mutually-authenticated TLS identity.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::target_ref::IdentityRef;

/// A set of client identities, referenced by AuthorizationPolicies; a
/// client matches if its identity matches any entry.
///
/// Exactly one of the two lists is set, and it is not empty: an empty list
/// would silently authorize no one.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1alpha1",
    kind = "MeshTLSAuthentication",
    root = "MeshTlsAuthentication",
    namespaced,
    shortname = "meshtlsauthn",
    derive = "PartialEq",
    doc = "A list of authenticated client identities to be referenced by an AuthorizationPolicy."
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("oneOf" = [
    {"required": ["identities"]},
    {"required": ["identityRefs"]}
]))]
pub struct MeshTlsAuthenticationSpec {
    /// Identities such as
    /// `slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local`;
    /// `*` is any authenticated client and `*.suffix` any identity ending so.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub identities: Option<Vec<String>>,
    /// ServiceAccounts (one identity each) or Namespaces (every identity
    /// of the namespace) whose identities match.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub identity_refs: Option<Vec<IdentityRef>>,
}

#[cfg(test)]
mod tests;
