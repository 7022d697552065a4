//! The Gateway API's `HTTPRoute` (`gateway.networking.k8s.io/v1`), which
//! Linkerd reads beside its own copy: an inbound route attached to a Server
//! may be either, and an AuthorizationPolicy may target either.
//!
//! The fields strait reads are those of `policy.linkerd.io`'s HTTPRoute,
//! so the spec is that type, and both kinds are indexed by one code path.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::policy::httproute::{HttpRouteSpec as PolicyHttpRouteSpec, HttpRouteStatus};

/// The API group of the Gateway API.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// The spec of a Gateway API HTTPRoute: the same fields as Linkerd's.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "gateway.networking.k8s.io",
    version = "v1",
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
#[serde(transparent)]
pub struct HttpRouteSpec(pub PolicyHttpRouteSpec);

#[cfg(test)]
mod tests;
