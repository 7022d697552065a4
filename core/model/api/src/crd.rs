//! The CustomResourceDefinitions of the resources in this crate, generated
//! from the types so that what the API server validates and what strait
//! decodes cannot drift apart.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
/// Why the Server's versions could not be merged into one definition,
/// re-exported so callers can keep it as the source of their own errors.
pub use kube::core::crd::MergeError;
use kube::core::crd::merge_crds;

use crate::gateway;
use crate::link::Link;
use crate::policy::{
    AuthorizationPolicy, HttpRoute, MeshTlsAuthentication, NetworkAuthentication,
    ServerAuthorization, server,
};

/// Every CustomResourceDefinition strait needs, in a fixed order (the Link,
/// the policy resources, then the Gateway API's HTTPRoute), with the
/// Server's versions merged into one definition that stores `v1beta3`, as
/// Linkerd's does.
///
/// Fails only if the types disagree on a Server's group, kind or scope,
/// which the crate's tests rule out.
pub fn custom_resource_definitions() -> Result<Vec<CustomResourceDefinition>, MergeError> {
    let mut server = merge_crds(
        vec![
            server::v1beta1::Server::crd(),
            server::v1beta2::Server::crd(),
            server::v1beta3::Server::crd(),
        ],
        "v1beta3",
    )?;
    // Oldest first, as Linkerd lists them, so a diff against Linkerd's
    // definition lines up.
    server.spec.versions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(vec![
        Link::crd(),
        server,
        ServerAuthorization::crd(),
        AuthorizationPolicy::crd(),
        MeshTlsAuthentication::crd(),
        NetworkAuthentication::crd(),
        HttpRoute::crd(),
        gateway::HttpRoute::crd(),
    ])
}

#[cfg(test)]
mod tests;
