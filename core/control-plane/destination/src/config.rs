//! Per-cluster settings: the names that differ from one cluster to another.

use strait_mesh::names;

/// How one cluster spells its names, needed to parse authorities and to
/// build the identities of its pods. Each linked cluster has its own,
/// because a remote pod's identity is named after the remote control plane
/// and trust domain (from the credentials Secret's annotations), not ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The cluster's DNS domain (`cluster.local` unless the cluster was
    /// installed otherwise): the suffix of fully qualified Service names.
    pub cluster_domain: String,
    /// The namespace of the control plane that issues the cluster's
    /// identities; it is part of every identity name.
    pub control_plane_namespace: String,
    /// The trust domain of the cluster's identities.
    pub trust_domain: String,
}

impl Default for ClusterConfig {
    /// Linkerd's defaults: `cluster.local`, `linkerd`, `cluster.local`.
    fn default() -> Self {
        ClusterConfig {
            cluster_domain: names::DEFAULT_CLUSTER_DOMAIN.into(),
            control_plane_namespace: names::CONTROL_PLANE_NAMESPACE.into(),
            trust_domain: names::DEFAULT_TRUST_DOMAIN.into(),
        }
    }
}

impl ClusterConfig {
    /// The TLS identity of a workload running as `service_account` in
    /// `namespace`, spelled as the identity service issues it, so a client
    /// proxy verifies exactly the name on the server's certificate.
    pub fn identity(&self, service_account: &str, namespace: &str) -> String {
        format!(
            "{service_account}.{namespace}.serviceaccount.identity.{}.{}",
            self.control_plane_namespace, self.trust_domain
        )
    }
}
