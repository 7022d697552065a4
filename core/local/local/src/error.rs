//! Why `strait local` could not start, or a cluster could not go on.

use std::net::SocketAddr;
use std::path::PathBuf;

/// An error of another crate, carried as the cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why the clusters of a directory did not start (or a control plane did
/// not restart), naming the file, the cluster or the part at fault.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A directory or file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// What was read.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// What was written.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be parsed (a kubeconfig to merge into).
    #[error("cannot parse {}: {reason}; it was left as it is", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line.
        reason: String,
    },
    /// The directory holds no cluster.
    #[error(
        "{} has no cluster directories: make one subdirectory per cluster (e.g. east/, west/) holding its YAML files",
        dir.display()
    )]
    NoClusters {
        /// The directory given.
        dir: PathBuf,
    },
    /// More clusters than there are ClusterIP ranges.
    #[error(
        "cluster {cluster} is one too many: each cluster takes a /16 above 10.96.0.0, so at most {MAX_CLUSTERS} fit"
    )]
    TooManyClusters {
        /// The first cluster without a range.
        cluster: String,
    },
    /// A part of one cluster did not start.
    #[error("cluster {cluster}: {part}: {source}")]
    Cluster {
        /// The cluster's name (its directory's).
        cluster: String,
        /// The part, e.g. `issuer` or `control plane`.
        part: &'static str,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// A part every cluster shares did not start.
    #[error("{part}: {source}")]
    Shared {
        /// The part, e.g. `trust anchor` or `plugin host`.
        part: &'static str,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// A cluster's Kubernetes API could not listen.
    #[error("cannot serve a cluster's Kubernetes API on {addr}: {source}")]
    Api {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// Neither STRAIT_HOME nor HOME is set, so there is nowhere to write
    /// the kubeconfig naming the clusters.
    #[error("set STRAIT_HOME (or HOME): the clusters' kubeconfig is written there")]
    NoHome,
}

/// How many clusters one run holds: the `index`-th takes 10.(96+index).0.0/16.
pub const MAX_CLUSTERS: usize = 256 - 96;

impl LocalError {
    /// Part `part` of cluster `cluster` failed with `source`.
    pub(crate) fn cluster(cluster: &str, part: &'static str, source: impl Into<BoxError>) -> Self {
        LocalError::Cluster {
            cluster: cluster.to_string(),
            part,
            source: source.into(),
        }
    }

    /// Shared part `part` failed with `source`.
    pub(crate) fn shared(part: &'static str, source: impl Into<BoxError>) -> Self {
        LocalError::Shared {
            part,
            source: source.into(),
        }
    }
}
