//! Identifying kinds and objects independently of their Rust types.

use std::fmt;

use kube::core::Resource;

/// A kind as the store keys it: API group, kind, plural, and whether it is
/// namespaced. Objects of all versions of one group/kind share one key, as in
/// the API server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoredKind {
    /// API group; empty for the core group.
    pub group: String,
    /// Kind, e.g. `Service`.
    pub kind: String,
    /// Plural resource name, e.g. `services`; used in messages as the API server does.
    pub plural: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

impl StoredKind {
    /// The kind of a typed resource.
    pub fn of<K: Resource<DynamicType = ()>>() -> Self
    where
        K::Scope: ScopeInfo,
    {
        StoredKind {
            group: K::group(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            plural: K::plural(&()).into_owned(),
            namespaced: <K::Scope as ScopeInfo>::NAMESPACED,
        }
    }
}

/// Whether a kube scope is namespaced, as a constant.
pub trait ScopeInfo {
    /// True for namespaced kinds.
    const NAMESPACED: bool;
}

impl ScopeInfo for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl ScopeInfo for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

impl ScopeInfo for kube::core::DynamicResourceScope {
    const NAMESPACED: bool = true;
}

/// One object: its kind, namespace (empty for cluster-scoped kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The kind.
    pub kind: StoredKind,
    /// The namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl fmt::Display for ObjectRef {
    /// As the API server names objects in errors: `services "bb" in mc-demo`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {:?}", self.kind.plural, self.name)
        } else {
            write!(
                f,
                "{} {:?} in {}",
                self.kind.plural, self.name, self.namespace
            )
        }
    }
}
