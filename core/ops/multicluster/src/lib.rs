//! `strait multicluster`: link clusters (`link-gen`, `unlink`) and check the
//! links (`check`, `gateways`), as `linkerd multicluster` does, against the
//! clusters of a running `strait local up` and Kubernetes clusters alike.
//!
//! Every command is written once over [`Cluster`], which [`cluster::Store`]
//! implements over kube's client (or an embedded store in tests) for
//! Kubernetes clusters and the clusters of a running `strait local up`
//! alike, both reached through their Kubernetes API ([`connect`], which
//! resolves `--context` in the user's kubeconfig files). The other
//! commands that read or write a cluster (`viz`, `plugin push`, `inject`)
//! go through the same trait.
//!
//! Each command returns what it found (YAML, rows, a report) or a typed
//! error naming the flag, object or cluster at fault; printing is the
//! caller's.

pub mod check;
pub mod cluster;
pub mod connect;
pub mod error;
pub mod gateways;
pub mod kubeconfig;
pub mod link_gen;
pub mod probe;
pub mod report;
pub mod selector;
#[cfg(test)]
mod testing;
pub mod unlink;

use serde::Serialize;

pub use cluster::{Cluster, ClusterInfo, Facts, Flavor, Reach, Store};
pub use connect::{KubeCluster, RealReach, connect};
pub use error::ClusterError;
pub use link_gen::{LinkGenError, LinkGenOptions};
pub use unlink::UnlinkError;

/// An object could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("writing YAML: {reason}")]
pub struct YamlError {
    /// The serializer's message.
    pub reason: String,
}

/// One YAML document, with its `---` separator, as the commands print
/// streams of objects for `kubectl apply -f -` and `delete -f -`.
pub fn document<T: Serialize>(object: &T) -> Result<String, YamlError> {
    serde_norway::to_string(object)
        .map(|yaml| format!("---\n{yaml}"))
        .map_err(|e| YamlError {
            reason: e.to_string(),
        })
}
