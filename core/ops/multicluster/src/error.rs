//! What goes wrong reading or writing a cluster, naming the cluster, the
//! object or the kubeconfig at fault, and the command that would fix it.

use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, LINKERD_CONFIG, MULTICLUSTER_NAMESPACE, REMOTE_ACCESS_TOKEN,
};
use strait_store::StoreError;

use crate::kubeconfig::KubeconfigError;

/// A cluster could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A Kubernetes cluster (or an embedded store) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A kubeconfig cannot be used.
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    /// A listing did not come back as one.
    #[error("listing {plural}: {problem}")]
    Listing {
        /// The kind's plural, e.g. `services`.
        plural: String,
        /// What came instead.
        problem: ListingProblem,
    },
    /// The control plane's settings are not in the cluster.
    #[error(
        "cluster {cluster}: ConfigMap {LINKERD_CONFIG} in {CONTROL_PLANE_NAMESPACE} not found; install the control plane with `strait install`"
    )]
    NoControlPlane {
        /// The cluster's name.
        cluster: String,
    },
    /// `linkerd-config` has no `values`.
    #[error("ConfigMap {LINKERD_CONFIG} in {CONTROL_PLANE_NAMESPACE} has no `values` key")]
    NoValues,
    /// `linkerd-config`'s `values` do not parse.
    #[error(
        "ConfigMap {LINKERD_CONFIG} in {CONTROL_PLANE_NAMESPACE}: `values` is not YAML: {reason}"
    )]
    ValuesNotYaml {
        /// The parser's message.
        reason: String,
    },
    /// `linkerd-config`'s `values` lack a setting.
    #[error("ConfigMap {LINKERD_CONFIG} in {CONTROL_PLANE_NAMESPACE}: `values` has no {key}")]
    MissingValue {
        /// The key, e.g. `clusterDomain`.
        key: &'static str,
    },
    /// The multicluster extension is not installed.
    #[error(
        "cluster {cluster}: Secret {REMOTE_ACCESS_TOKEN} in {MULTICLUSTER_NAMESPACE} not found; install the multicluster extension with `strait multicluster install`"
    )]
    NoExtension {
        /// The cluster's name.
        cluster: String,
    },
    /// The remote-access token Secret is not filled in yet.
    #[error(
        "Secret {REMOTE_ACCESS_TOKEN} in {MULTICLUSTER_NAMESPACE} has no {key:?} yet; Kubernetes fills it in shortly after `strait multicluster install`"
    )]
    TokenNotFilled {
        /// The missing key, `token` or `ca.crt`.
        key: &'static str,
    },
    /// The remote-access token is not UTF-8.
    #[error("Secret {REMOTE_ACCESS_TOKEN} in {MULTICLUSTER_NAMESPACE}: the token is not text")]
    TokenNotText,
    /// Credentials need a server address and none is known.
    #[error(
        "the API server of context {context:?} is not in the kubeconfig; pass --api-server-address"
    )]
    NoServer {
        /// The context's name.
        context: String,
    },
    /// A request to the cluster's API server failed.
    #[error("GET {uri}: {reason}")]
    Request {
        /// The request's path.
        uri: String,
        /// Why there is no answer.
        reason: String,
    },
    /// An embedded store has no pods to talk to.
    #[error("pod {namespace}/{pod} is not running: an embedded store runs no pods")]
    NoPods {
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        pod: String,
    },
    /// A GET through the API server's pod proxy failed.
    #[error("{uri}: {reason}")]
    PodProxy {
        /// The proxy URI.
        uri: String,
        /// Why.
        reason: String,
    },
}

/// What a listing returned instead of the objects.
#[derive(Debug, thiserror::Error)]
pub enum ListingProblem {
    /// A change came before the first full listing.
    #[error("the cluster answered with a change before the listing")]
    ChangeFirst,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// The watch ended without an answer.
    #[error("no answer")]
    NoAnswer,
}
