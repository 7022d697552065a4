//! How kubectl names kinds and objects in its messages.

/// An object as kubectl names it (`deployment.apps/bb`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectId {
    /// API group; empty for the core group.
    pub group: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// kubectl's name of an object's kind in messages: the lowercase kind, with
/// the group for non-core kinds (`service`, `deployment.apps`,
/// `link.multicluster.linkerd.io`).
pub fn kind_name(group: &str, kind: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    if group.is_empty() {
        kind
    } else {
        format!("{kind}.{group}")
    }
}

/// `service/bb`, as kubectl names an object in its one-line reports.
pub fn object_name(object: &ObjectId) -> String {
    format!("{}/{}", kind_name(&object.group, &object.kind), object.name)
}

#[cfg(test)]
mod tests;
