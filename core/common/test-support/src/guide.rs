//! The names of Linkerd's pod-to-pod multicluster guide, which most tests
//! replay a piece of: its namespace, its workloads' mesh identities, bb's
//! authority, and step 6's policy admitting only slow-cooker to bb.
//!
//! Spelled once here so that a test's fixture and its expectations cannot
//! disagree about them.

use serde_json::{Value, json};
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, DEFAULT_TRUST_DOMAIN};

use crate::objects::{authorization_policy, mesh_tls_authentication, server};

/// The guide's namespace.
pub const NS: &str = "mc-demo";

/// bb's HTTP port, which step 6's Server selects.
pub const BB_PORT: u16 = 8080;

/// bb's authority, as its clients address it.
pub const BB_AUTHORITY: &str = "bb.mc-demo.svc.cluster.local:8080";

/// slow-cooker's mesh identity: the one client step 6 admits.
pub const SLOW_COOKER: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";

/// slow-cooker-evil's mesh identity: a meshed client step 6 refuses.
pub const EVIL: &str = "slow-cooker-evil.mc-demo.serviceaccount.identity.linkerd.cluster.local";

/// bb's mesh identity.
pub const BB_IDENTITY: &str = "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local";

/// The mesh identity of ServiceAccount `sa` in `namespace`, under the
/// default control-plane namespace and trust domain.
pub fn identity(sa: &str, namespace: &str) -> String {
    format!(
        "{sa}.{namespace}.serviceaccount.identity.{CONTROL_PLANE_NAMESPACE}.{DEFAULT_TRUST_DOMAIN}"
    )
}

/// The workload a proxy of pod `pod` in `namespace` names when it asks the
/// policy service (`LINKERD2_PROXY_POLICY_WORKLOAD`).
pub fn workload(namespace: &str, pod: &str) -> String {
    json!({"ns": namespace, "pod": pod}).to_string()
}

/// Step 6 of the guide, with bb's Server on `port`: Server `bb`,
/// AuthorizationPolicy `bb-authz` requiring MeshTLSAuthentication
/// `bb-good`, which passes slow-cooker only. In the guide's order.
pub fn policy(port: u16) -> [Value; 3] {
    [
        server(NS, "bb", "bb", port),
        authorization_policy(NS, "bb-authz", "bb", "bb-good"),
        mesh_tls_authentication(NS, "bb-good", &[SLOW_COOKER]),
    ]
}

#[cfg(test)]
mod tests;
