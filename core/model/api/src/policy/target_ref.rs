//! References from one policy resource to another.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference to a resource in the referring resource's own namespace: an
/// AuthorizationPolicy's `targetRef` (a Server, HTTPRoute, GRPCRoute or the
/// Namespace itself).
///
/// There is no namespace field because Linkerd's CRD has none: a policy only
/// ever applies to its own namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub struct LocalTargetRef {
    /// API group of the target; unset or empty means the core group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind of the target, e.g. `Server`.
    pub kind: String,
    /// Name of the target.
    pub name: String,
}

/// A reference to a resource that may live in another namespace: an
/// AuthorizationPolicy's `requiredAuthenticationRefs`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub struct NamespacedTargetRef {
    /// API group of the referent; unset or empty means the core group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind of the referent, e.g. `MeshTLSAuthentication`.
    pub kind: String,
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent; unset means the referring resource's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// An entry of a MeshTLSAuthentication's `identityRefs`: the clients whose
/// identity a ServiceAccount or Namespace stands for.
///
/// The name is optional, as in Linkerd's CRD: without one the entry stands
/// for every resource of the kind in the namespace. Anything the API server
/// accepts must decode, or one resource would break a whole watch.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub struct IdentityRef {
    /// API group of the referent; unset or empty means the core group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind of the referent: `ServiceAccount` or `Namespace`.
    pub kind: String,
    /// Name of the referent; unset means all of the kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the referent; unset means the referring resource's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}
