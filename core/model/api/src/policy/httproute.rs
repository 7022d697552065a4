//! `HTTPRoute` (`policy.linkerd.io/v1beta3`): Linkerd's copy of the Gateway
//! API route, attached to Servers so that authorization policies can target
//! individual routes.
//!
//! What authorization needs (parents, hostnames, matches) is typed; filters,
//! backends and timeouts are kept as written, so a route round-trips without
//! strait having to model what it does not act on.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod matches;

pub use matches::{
    HeaderMatch, HeaderMatchType, HttpMethod, HttpRouteMatch, PathMatch, PathMatchType,
    QueryParamMatch,
};

/// Requests to a parent (a Server, or a Service for outbound routing), split
/// into rules by what they look like.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1beta3",
    kind = "HTTPRoute",
    root = "HttpRoute",
    namespaced,
    status = "HttpRouteStatus",
    derive = "PartialEq",
    printcolumn(name = "Hostnames", type_ = "string", json_path = ".spec.hostnames"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    doc = "HTTPRoute provides a way to route HTTP requests, and to authorize them per route."
)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// What the route attaches to: for authorization, a `Server`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_refs: Option<Vec<ParentReference>>,
    /// Host headers the route applies to; unset means any. `*.` prefixes a
    /// suffix match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostnames: Option<Vec<String>>,
    /// The rules; a request takes the first, most specific, that matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<HttpRouteRule>>,
}

/// A reference from a route to the resource it attaches to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// API group of the parent; unset means `policy.linkerd.io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind of the parent, e.g. `Server` or `Service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the parent; unset means the route's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the parent.
    pub name: String,
    /// A named section of the parent (e.g. a Gateway listener).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// A port of the parent (for Service parents).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), extend("format" = "int32"))]
    pub port: Option<u16>,
}

/// Which requests a rule applies to and, kept opaque, what happens to them.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// Request shapes, any of which selects the rule; unset means every
    /// request (a `/` path prefix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<HttpRouteMatch>>,
    /// Header modifications and redirects, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "opaque_objects")]
    pub filters: Option<Vec<serde_json::Value>>,
    /// Where matching requests go, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "opaque_objects")]
    pub backend_refs: Option<Vec<serde_json::Value>>,
    /// Request timeouts (`request`, `backendRequest`), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "opaque_object")]
    pub timeouts: Option<serde_json::Value>,
}

/// What the policy controllers report about a route.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteStatus {
    /// One entry per parent and controller that has seen the route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parents: Option<Vec<RouteParentStatus>>,
}

/// Whether one controller accepted the route for one parent, so users see
/// why a route has no effect.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteParentStatus {
    /// The parent this entry is about.
    pub parent_ref: ParentReference,
    /// The controller that wrote the entry.
    pub controller_name: String,
    /// `Accepted`, `ResolvedRefs`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// Schema of a list of objects strait keeps as written: any fields allowed,
/// none pruned by the API server.
fn opaque_objects(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": opaque_object(generator),
    })
}

/// Schema of an object strait keeps as written.
fn opaque_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

#[cfg(test)]
mod tests;
