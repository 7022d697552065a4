//! The resource names kubectl accepts (`svc`, `services`, `deploy`,
//! `servers.policy.linkerd.io`, ...) and the kinds they stand for.

/// A kind as the commands name it to the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The kind, e.g. `Service`.
    pub kind: String,
    /// The API group when it is known; `None` lets the API match any group.
    pub group: Option<String>,
    /// Whether objects live in namespaces, for messages; unknown kinds are
    /// taken as namespaced, as most custom kinds are.
    pub namespaced: bool,
}

/// (kind, group, namespaced, names kubectl accepts besides the lowercase
/// kind and its plural).
const KNOWN: &[(&str, &str, bool, &[&str])] = &[
    ("Service", "", true, &["svc"]),
    ("Pod", "", true, &["po"]),
    ("Namespace", "", false, &["ns"]),
    ("ServiceAccount", "", true, &["sa"]),
    ("Secret", "", true, &[]),
    ("ConfigMap", "", true, &["cm"]),
    ("Endpoints", "", true, &["ep"]),
    ("Node", "", false, &["no"]),
    ("Deployment", "apps", true, &["deploy"]),
    ("ReplicaSet", "apps", true, &["rs"]),
    ("StatefulSet", "apps", true, &["sts"]),
    ("DaemonSet", "apps", true, &["ds"]),
    ("EndpointSlice", "discovery.k8s.io", true, &[]),
    ("Link", "multicluster.linkerd.io", true, &[]),
    ("Server", "policy.linkerd.io", true, &["srv"]),
    (
        "ServerAuthorization",
        "policy.linkerd.io",
        true,
        &["saz", "serverauthz"],
    ),
    (
        "AuthorizationPolicy",
        "policy.linkerd.io",
        true,
        &["authzpolicy"],
    ),
    (
        "MeshTLSAuthentication",
        "policy.linkerd.io",
        true,
        &["meshtlsauthn"],
    ),
    (
        "NetworkAuthentication",
        "policy.linkerd.io",
        true,
        &["netauthn", "networkauthn"],
    ),
    ("HTTPRoute", "", true, &[]),
    ("GRPCRoute", "gateway.networking.k8s.io", true, &[]),
    (
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        false,
        &["crd", "crds"],
    ),
    ("ClusterRole", "rbac.authorization.k8s.io", false, &[]),
    (
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        false,
        &[],
    ),
    ("Role", "rbac.authorization.k8s.io", true, &[]),
    ("RoleBinding", "rbac.authorization.k8s.io", true, &[]),
];

/// The kind a resource name stands for: a short name, the kind, its plural,
/// any of them with `.group` (`servers.policy.linkerd.io`), case
/// insensitive. Names not known are taken as a kind (a trailing `s`
/// dropped), so custom kinds applied from YAML can still be listed.
pub fn resolve_resource(name: &str) -> Resource {
    let lower = name.to_ascii_lowercase();
    let (word, group) = match lower.split_once('.') {
        Some((word, group)) => (word.to_string(), Some(group.to_string())),
        None => (lower.clone(), None),
    };
    for (kind, known_group, namespaced, short) in KNOWN {
        let singular = kind.to_ascii_lowercase();
        let matches =
            word == singular || word == plural(&singular) || short.contains(&word.as_str());
        let group_ok = group
            .as_deref()
            .is_none_or(|g| g == *known_group || known_group.is_empty());
        if matches && group_ok {
            let group =
                group.or_else(|| (!known_group.is_empty()).then(|| known_group.to_string()));
            return Resource {
                kind: kind.to_string(),
                group,
                namespaced: *namespaced,
            };
        }
    }
    let kind = word
        .strip_suffix('s')
        .filter(|k| !k.is_empty())
        .unwrap_or(&word);
    Resource {
        kind: kind.to_string(),
        group,
        namespaced: true,
    }
}

fn plural(singular: &str) -> String {
    if singular.ends_with('s') {
        singular.to_string()
    } else if let Some(stem) = singular.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{singular}s")
    }
}

#[cfg(test)]
mod tests;
