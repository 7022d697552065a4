//! `ServerAuthorization` (`policy.linkerd.io/v1beta1`): the older,
//! self-contained way to authorize clients of Servers, still honoured by
//! Linkerd and so by strait.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::network::Network;

/// Authorizes the described clients on the Servers it names or selects.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1beta1",
    kind = "ServerAuthorization",
    namespaced,
    shortname = "saz",
    shortname = "serverauthz",
    shortname = "srvauthz",
    derive = "PartialEq",
    printcolumn(
        name = "Server",
        type_ = "string",
        description = "The server that this grants access to",
        json_path = ".spec.server.name"
    ),
    doc = "Authorizes clients to communicate with Linkerd-proxied servers."
)]
#[serde(rename_all = "camelCase")]
pub struct ServerAuthorizationSpec {
    /// The Servers, in the same namespace, this applies to.
    pub server: ServerSelector,
    /// The clients it authorizes.
    pub client: Client,
}

/// Servers by name or by label; exactly one of the two is set.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[schemars(extend("oneOf" = [{"required": ["name"]}, {"required": ["selector"]}]))]
pub struct ServerSelector {
    /// One Server, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Servers whose labels match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// Clients authorized: from these networks, and either unauthenticated or
/// with one of these mesh identities.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// Client networks; unset means the cluster's default networks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networks: Option<Vec<Network>>,
    /// Whether clients without a mesh identity are authorized; unset means
    /// false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unauthenticated: Option<bool>,
    /// Which meshed clients are authorized.
    #[serde(rename = "meshTLS", skip_serializing_if = "Option::is_none")]
    pub mesh_tls: Option<MeshTls>,
}

/// Meshed clients, by identity or by ServiceAccount.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeshTls {
    /// Whether TLS clients without an identity are authorized: needed by the
    /// identity service, whose clients have no certificate yet.
    #[serde(rename = "unauthenticatedTLS", skip_serializing_if = "Option::is_none")]
    pub unauthenticated_tls: Option<bool>,
    /// Client identities; `*` is any, `*.suffix` any ending so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identities: Option<Vec<String>>,
    /// ServiceAccounts whose identities are authorized.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_accounts: Option<Vec<ServiceAccountRef>>,
}

/// A ServiceAccount, standing for the identity of the pods that run as it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ServiceAccountRef {
    /// The ServiceAccount's name.
    pub name: String,
    /// Its namespace; unset means the ServerAuthorization's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[cfg(test)]
mod tests;
