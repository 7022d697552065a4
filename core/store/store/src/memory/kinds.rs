//! Kinds the embedded store knows without a Rust type, for objects loaded
//! from YAML: their plural and whether they are namespaced.

use crate::object::StoredKind;

/// (group, kind, plural, namespaced) of the kinds strait and the guide use.
const KNOWN: &[(&str, &str, &str, bool)] = &[
    ("", "Namespace", "namespaces", false),
    ("", "Service", "services", true),
    ("", "Endpoints", "endpoints", true),
    ("", "Pod", "pods", true),
    ("", "ServiceAccount", "serviceaccounts", true),
    ("", "Secret", "secrets", true),
    ("", "ConfigMap", "configmaps", true),
    ("", "Node", "nodes", false),
    ("apps", "Deployment", "deployments", true),
    ("apps", "StatefulSet", "statefulsets", true),
    ("apps", "DaemonSet", "daemonsets", true),
    ("apps", "ReplicaSet", "replicasets", true),
    ("discovery.k8s.io", "EndpointSlice", "endpointslices", true),
    (
        "rbac.authorization.k8s.io",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    ("rbac.authorization.k8s.io", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    ("multicluster.linkerd.io", "Link", "links", true),
    ("policy.linkerd.io", "Server", "servers", true),
    (
        "policy.linkerd.io",
        "ServerAuthorization",
        "serverauthorizations",
        true,
    ),
    (
        "policy.linkerd.io",
        "AuthorizationPolicy",
        "authorizationpolicies",
        true,
    ),
    (
        "policy.linkerd.io",
        "MeshTLSAuthentication",
        "meshtlsauthentications",
        true,
    ),
    (
        "policy.linkerd.io",
        "NetworkAuthentication",
        "networkauthentications",
        true,
    ),
    ("policy.linkerd.io", "HTTPRoute", "httproutes", true),
    ("gateway.networking.k8s.io", "HTTPRoute", "httproutes", true),
    ("gateway.networking.k8s.io", "GRPCRoute", "grpcroutes", true),
];

/// The kind of an object given by its `apiVersion` and `kind`. Unknown kinds
/// are taken as namespaced with the usual plural, as most custom kinds are.
pub(crate) fn kind_of(api_version: &str, kind: &str) -> StoredKind {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    match KNOWN.iter().find(|(g, k, _, _)| *g == group && *k == kind) {
        Some((g, k, plural, namespaced)) => StoredKind {
            group: g.to_string(),
            kind: k.to_string(),
            plural: plural.to_string(),
            namespaced: *namespaced,
        },
        None => StoredKind {
            group: group.to_string(),
            kind: kind.to_string(),
            plural: plural_of(kind),
            namespaced: true,
        },
    }
}

fn plural_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with('s') || lower.ends_with('x') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}
