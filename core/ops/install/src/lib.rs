//! The Kubernetes manifests of strait: the control plane (`strait install`)
//! and the multicluster extension (`strait multicluster install`).
//!
//! Everything is rendered offline, as `linkerd install --ignore-cluster`
//! does: no cluster is contacted, so the output can be reviewed, committed
//! and applied by any pipeline. Every object is built as a typed
//! k8s-openapi value and only then written as YAML, so a manifest that
//! renders is one the API server can decode.
//!
//! The names, ports and paths are Linkerd's (see [`strait_mesh::names`]),
//! so Linkerd's proxies and tools find the components where they expect
//! them; the RBAC of each component
//! is derived from what its controller reads and writes (see [`rbac`]).

pub mod control_plane;
pub mod deploy;
pub mod identity;
mod meta;
pub mod multicluster;
pub mod object;
pub mod rbac;
#[cfg(test)]
mod testing;

pub use control_plane::{ControlPlane, CrdSelection};
pub use identity::{
    IdentityError, IdentityFiles, IdentityMaterial, IdentityProblem, trust_anchors_from_file,
};
pub use multicluster::{Multicluster, SetError};
pub use object::{Object, RenderError, render};
