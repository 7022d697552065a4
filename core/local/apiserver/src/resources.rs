//! The resources a local cluster serves: the built-in kinds strait and the
//! guide use, and every kind a CustomResourceDefinition in the store
//! defines, with the names, scope, verbs and subresources discovery
//! announces and requests are routed by.

use serde_json::{Value, json};
use strait_store::StoredKind;

/// One resource of one group version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The group; empty for the core group.
    pub group: String,
    /// The version served.
    pub version: String,
    /// The kind.
    pub kind: String,
    /// The plural, as in URLs (`services`).
    pub plural: String,
    /// The singular (`service`).
    pub singular: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl's short names (`svc`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Subresources served (`status`, `scale`, `log`).
    pub subresources: Vec<String>,
    /// The verbs served; a kind that can only be created (a review) has
    /// fewer.
    pub verbs: Vec<String>,
    /// The version's `additionalPrinterColumns`, for a custom resource.
    pub printer_columns: Option<Value>,
    /// The version's `openAPIV3Schema`, for a custom resource.
    pub schema: Option<Value>,
}

/// The verbs of an ordinary resource.
const ALL_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// (group, version, kind, plural, namespaced, short names, categories, subresources)
type BuiltIn = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// The built-in kinds served, as a Kubernetes API server of the version
/// strait targets announces them.
const BUILT_IN: &[BuiltIn] = &[
    (
        "",
        "v1",
        "Namespace",
        "namespaces",
        false,
        &["ns"],
        &[],
        &["status"],
    ),
    (
        "",
        "v1",
        "Service",
        "services",
        true,
        &["svc"],
        &["all"],
        &["status"],
    ),
    ("", "v1", "Endpoints", "endpoints", true, &["ep"], &[], &[]),
    (
        "",
        "v1",
        "Pod",
        "pods",
        true,
        &["po"],
        &["all"],
        &["log", "status"],
    ),
    (
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
        &[],
        &[],
    ),
    ("", "v1", "Secret", "secrets", true, &[], &[], &[]),
    ("", "v1", "ConfigMap", "configmaps", true, &["cm"], &[], &[]),
    ("", "v1", "Node", "nodes", false, &["no"], &[], &["status"]),
    ("", "v1", "Event", "events", true, &["ev"], &[], &[]),
    (
        "apps",
        "v1",
        "Deployment",
        "deployments",
        true,
        &["deploy"],
        &["all"],
        &["scale", "status"],
    ),
    (
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        true,
        &["rs"],
        &["all"],
        &["scale", "status"],
    ),
    (
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        true,
        &["sts"],
        &["all"],
        &["scale", "status"],
    ),
    (
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        true,
        &["ds"],
        &["all"],
        &["status"],
    ),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
        &[],
        &[],
        &[],
    ),
    (
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        true,
        &[],
        &[],
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        &[],
        &[],
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        &[],
        &[],
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        true,
        &[],
        &[],
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        &[],
        &[],
        &[],
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        &[],
        &["status"],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        &[],
        &[],
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        &[],
        &[],
        &[],
    ),
];

/// Every resource served, given the store's CustomResourceDefinitions:
/// the built-in ones first, then one per served version of each definition.
pub fn all(definitions: &[Value]) -> Vec<Resource> {
    let mut resources: Vec<Resource> = BUILT_IN
        .iter()
        .map(
            |(group, version, kind, plural, namespaced, short, categories, sub)| Resource {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                singular: kind.to_ascii_lowercase(),
                namespaced: *namespaced,
                short_names: short.iter().map(|s| s.to_string()).collect(),
                categories: categories.iter().map(|s| s.to_string()).collect(),
                subresources: sub.iter().map(|s| s.to_string()).collect(),
                verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
                printer_columns: None,
                schema: None,
            },
        )
        .collect();
    for definition in definitions {
        resources.extend(custom(definition));
    }
    resources
}

/// The resources one CustomResourceDefinition defines, one per served
/// version; a definition missing what it needs defines none (the store
/// refuses such definitions before they get here).
fn custom(definition: &Value) -> Vec<Resource> {
    let spec = &definition["spec"];
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let (group, kind, plural) = (
        text(&spec["group"]),
        text(&spec["names"]["kind"]),
        text(&spec["names"]["plural"]),
    );
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return Vec::new();
    }
    let singular = match text(&spec["names"]["singular"]) {
        s if s.is_empty() => kind.to_ascii_lowercase(),
        s => s,
    };
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool() != Some(false))
        .filter_map(|version| {
            let name = version["name"].as_str()?.to_string();
            let mut subresources = Vec::new();
            if version["subresources"].get("status").is_some() {
                subresources.push("status".to_string());
            }
            if version["subresources"].get("scale").is_some() {
                subresources.push("scale".to_string());
            }
            Some(Resource {
                group: group.clone(),
                version: name,
                kind: kind.clone(),
                plural: plural.clone(),
                singular: singular.clone(),
                namespaced: spec["scope"].as_str() != Some("Cluster"),
                short_names: strings(&spec["names"]["shortNames"]),
                categories: strings(&spec["names"]["categories"]),
                subresources,
                verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
                printer_columns: version.get("additionalPrinterColumns").cloned(),
                schema: version["schema"].get("openAPIV3Schema").cloned(),
            })
        })
        .collect()
}

impl Resource {
    /// The kind as the store keys it.
    pub fn stored_kind(&self) -> StoredKind {
        StoredKind {
            group: self.group.clone(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
            namespaced: self.namespaced,
        }
    }

    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `services` or `deployments.apps`: how the API server names the
    /// resource in messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The resource's entries in an `APIResourceList`: itself, then each
    /// subresource.
    pub fn discovery_entries(&self) -> Vec<Value> {
        let mut entries = vec![json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
            "shortNames": self.short_names,
            "categories": self.categories,
        })];
        for sub in &self.subresources {
            let (kind, verbs): (&str, &[&str]) = match sub.as_str() {
                "log" => ("Pod", &["get"]),
                "scale" => ("Scale", &["get", "patch", "update"]),
                _ => (self.kind.as_str(), &["get", "patch", "update"]),
            };
            let mut entry = json!({
                "name": format!("{}/{sub}", self.plural),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if sub == "scale" {
                entry["group"] = json!("autoscaling");
                entry["version"] = json!("v1");
            }
            entries.push(entry);
        }
        entries
    }
}

/// The group versions served, in discovery's order: core first, then the
/// groups by name, each with its versions as listed.
pub fn group_versions(resources: &[Resource]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in resources {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version.clone());
                }
            }
            None => out.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    out
}

#[cfg(test)]
mod tests;
