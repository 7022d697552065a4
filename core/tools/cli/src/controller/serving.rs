//! What every control-plane command shares: the names of the mesh.

use clap::Args;
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, DEFAULT_TRUST_DOMAIN};

/// How this mesh spells its names; every control-plane component must
/// agree on them, so they are the same flags everywhere, with Linkerd's
/// defaults.
#[derive(Args, Clone, Debug)]
pub struct MeshNames {
    /// Namespace of the control plane; part of every identity name.
    #[arg(long, default_value = CONTROL_PLANE_NAMESPACE)]
    pub controller_namespace: String,
    /// Trust domain of the mesh's identities.
    #[arg(long, default_value = DEFAULT_TRUST_DOMAIN)]
    pub identity_trust_domain: String,
}
