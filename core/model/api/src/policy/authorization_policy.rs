//! `AuthorizationPolicy` (`policy.linkerd.io/v1alpha1`): lets clients that
//! satisfy every listed authentication reach a Server, a route or a whole
//! namespace.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::target_ref::{LocalTargetRef, NamespacedTargetRef};

/// Grants access to one target, for clients that pass all the required
/// authentications.
#[derive(CustomResource, Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1alpha1",
    kind = "AuthorizationPolicy",
    namespaced,
    shortname = "authzpolicy",
    derive = "PartialEq",
    doc = "Authorizes clients to communicate with Linkerd-proxied server resources."
)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationPolicySpec {
    /// What is authorized: a `Server`, `HTTPRoute` or `GRPCRoute` (group
    /// `policy.linkerd.io` or `gateway.networking.k8s.io`), or the
    /// `Namespace` itself (every Server in it).
    pub target_ref: LocalTargetRef,
    /// Authentications (`MeshTLSAuthentication`, `NetworkAuthentication`,
    /// `ServiceAccount`) that must all match. If one does not exist, the
    /// policy is ignored rather than applied with fewer checks.
    pub required_authentication_refs: Vec<NamespacedTargetRef>,
}

#[cfg(test)]
mod tests;
