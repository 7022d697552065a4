//! `NetworkAuthentication` (`policy.linkerd.io/v1alpha1`): clients known by
//! the network they connect from.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::network::Network;

/// A set of client networks, referenced by AuthorizationPolicies; a client
/// matches if its address is in any of them.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1alpha1",
    kind = "NetworkAuthentication",
    namespaced,
    shortname = "netauthn",
    shortname = "networkauthn",
    derive = "PartialEq",
    doc = "A list of authenticated client networks to be referenced by an AuthorizationPolicy."
)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAuthenticationSpec {
    /// The networks clients may connect from.
    pub networks: Vec<Network>,
}

#[cfg(test)]
mod tests;
