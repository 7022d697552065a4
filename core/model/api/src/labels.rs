//! Label and annotation names shared with Linkerd.
//!
//! These strings are the contract between the mesh and everything around it:
//! users label Services to export them, Linkerd's CLI writes credentials
//! Secrets with them, and `linkerd` commands read mirrors by them. Keeping
//! them identical lets strait and Linkerd tooling operate on the same cluster.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Label on a Service in the target cluster that asks for it to be mirrored;
/// its value picks the mode (see [`EXPORTED_GATEWAY`] and
/// [`EXPORTED_REMOTE_DISCOVERY`]), matched by a Link's selectors.
pub const EXPORTED: &str = "mirror.linkerd.io/exported";

/// Value of [`EXPORTED`] that exports a Service through the target cluster's
/// gateway: the default of a Link's `selector`.
pub const EXPORTED_GATEWAY: &str = "true";

/// Value of [`EXPORTED`] that exports a Service in remote-discovery
/// (pod-to-pod) mode: the default of a Link's `remoteDiscoverySelector`.
pub const EXPORTED_REMOTE_DISCOVERY: &str = "remote-discovery";

/// Label (value `"true"`) on every mirror Service strait or Linkerd created,
/// so that a mirror is only ever updated or deleted by the controller that
/// owns it and never mistaken for a user's Service.
pub const MIRRORED_SERVICE: &str = "mirror.linkerd.io/mirrored-service";

/// Label on a mirror Service naming the Link's target cluster it came from,
/// so that unlinking one cluster removes only that cluster's mirrors.
pub const MIRROR_CLUSTER_NAME: &str = "mirror.linkerd.io/cluster-name";

/// Annotation on a mirror Service with the remote Service's fully qualified
/// name (`<svc>.<ns>.svc.<cluster domain>`), the authority that requests
/// through the mirror are rewritten to.
pub const REMOTE_SVC_FQ_NAME: &str = "mirror.linkerd.io/remote-svc-fq-name";

/// Annotation on a mirror Service with the remote Service's
/// `resourceVersion`, so an unchanged remote Service causes no write.
pub const REMOTE_RESOURCE_VERSION: &str = "mirror.linkerd.io/remote-resource-version";

/// Annotation on a gateway-mode mirror's Endpoints with the gateway's TLS
/// identity, which the client proxy must verify when it connects.
pub const REMOTE_GATEWAY_IDENTITY: &str = "mirror.linkerd.io/remote-gateway-identity";

/// Label on a per-pod mirror (`web-0-east`, one per hostname of a remote
/// headless Service) naming the headless mirror (`web-east`) it belongs to,
/// so the mirror finds, keeps and removes them with it, as Linkerd's does.
pub const MIRRORED_HEADLESS_SVC_NAME: &str = "mirror.linkerd.io/headless-mirror-svc-name";

/// Label on a Service in the target cluster that makes it a member of a
/// federated Service; value [`FEDERATED_MEMBER`], matched by a Link's
/// `federatedServiceSelector`.
pub const FEDERATED: &str = "mirror.linkerd.io/federated";

/// Value of [`FEDERATED`] that makes a Service a federated member.
pub const FEDERATED_MEMBER: &str = "member";

/// Label on a remote-discovery mirror naming the target cluster whose
/// endpoints the destination service must resolve it through. On a federated
/// Service the same key is an annotation listing its remote members as
/// `<service>@<cluster>`, comma separated (see [`remote_discovery_members`]).
pub const REMOTE_DISCOVERY: &str = "multicluster.linkerd.io/remote-discovery";

/// Annotation on a federated Service naming the Service of this cluster that
/// is one of its members (local discovery).
pub const LOCAL_DISCOVERY: &str = "multicluster.linkerd.io/local-discovery";

/// The suffix of a federated Service's name: `<service>-federated`.
pub const FEDERATED_SUFFIX: &str = "-federated";

/// The federated Service the members named `service` join.
pub fn federated_service_name(service: &str) -> String {
    format!("{service}{FEDERATED_SUFFIX}")
}

/// One remote member of a federated Service: a Service of a linked cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RemoteMember {
    /// The Service's name in its cluster (same namespace as the federated
    /// Service).
    pub service: String,
    /// The linked cluster, by the Link's `targetClusterName`.
    pub cluster: String,
}

impl std::fmt::Display for RemoteMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.service, self.cluster)
    }
}

/// The remote members a [`REMOTE_DISCOVERY`] annotation lists, in order;
/// entries that are not `<service>@<cluster>` are skipped, as Linkerd's
/// destination skips them (with the entry returned so callers can report it).
pub fn remote_discovery_members(annotation: &str) -> (Vec<RemoteMember>, Vec<String>) {
    let mut members = Vec::new();
    let mut invalid = Vec::new();
    for entry in annotation
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        match entry.split_once('@') {
            Some((service, cluster))
                if !service.is_empty() && !cluster.is_empty() && !cluster.contains('@') =>
            {
                members.push(RemoteMember {
                    service: service.to_string(),
                    cluster: cluster.to_string(),
                });
            }
            _ => invalid.push(entry.to_string()),
        }
    }
    (members, invalid)
}

/// Label on a remote-discovery mirror naming the Service in the target
/// cluster, since the mirror's own name carries the cluster suffix.
pub const REMOTE_SERVICE: &str = "multicluster.linkerd.io/remote-service";

/// Label on a credentials Secret naming the remote cluster it reaches, by
/// which the destination service finds the clusters it must watch.
pub const CLUSTER_NAME: &str = "multicluster.linkerd.io/cluster-name";

/// Annotation on a credentials Secret with the remote cluster's trust domain,
/// needed to build the TLS identities of remote pods.
pub const TRUST_DOMAIN: &str = "multicluster.linkerd.io/trust-domain";

/// Annotation on a credentials Secret with the remote cluster's DNS domain
/// (e.g. `cluster.local`), needed to build remote Services' names.
pub const CLUSTER_DOMAIN: &str = "multicluster.linkerd.io/cluster-domain";

/// Annotation on a pod or namespace (`enabled`, `disabled`, `ingress`) that
/// decides whether the proxy is injected; only injected pods have the
/// identity that authorization policies match.
pub const INJECT: &str = "linkerd.io/inject";

/// Label on an injected pod (and on the control plane's objects) naming the
/// control plane's namespace, which Linkerd's tools select meshed pods by.
pub const CONTROL_PLANE_NS: &str = "linkerd.io/control-plane-ns";

/// Label on an injected pod naming its own namespace.
pub const WORKLOAD_NS: &str = "linkerd.io/workload-ns";

/// Annotation on an injected pod naming the version of its proxy.
pub const PROXY_VERSION: &str = "linkerd.io/proxy-version";

/// Annotation on an injected pod naming the tool that injected it.
pub const CREATED_BY: &str = "linkerd.io/created-by";

/// The label on an injected pod naming the workload of `kind` it belongs
/// to: `linkerd.io/proxy-deployment: bb` for a pod of Deployment `bb`.
pub fn proxy_owner(kind: &str) -> String {
    format!("linkerd.io/proxy-{}", kind.to_lowercase())
}

/// Annotation on a pod or namespace that overrides the install-wide default
/// inbound policy (`all-unauthenticated`, `deny`, ...) for ports no Server
/// selects.
pub const DEFAULT_INBOUND_POLICY: &str = "config.linkerd.io/default-inbound-policy";

/// `type` of the Secret a Link's `clusterCredentialsSecret` names; checked so
/// that an unrelated Secret is never used as a kubeconfig.
pub const REMOTE_KUBECONFIG_SECRET_TYPE: &str = "mirror.linkerd.io/remote-kubeconfig";

/// Key of the kubeconfig in a [`REMOTE_KUBECONFIG_SECRET_TYPE`] Secret.
pub const KUBECONFIG_KEY: &str = "kubeconfig";

/// The selector a Link uses for gateway-mode exports when its `selector` is
/// unset (`mirror.linkerd.io/exported=true`), as `link-gen` writes it.
pub fn default_gateway_selector() -> LabelSelector {
    match_label(EXPORTED, EXPORTED_GATEWAY)
}

/// The selector a Link uses for remote-discovery exports when its
/// `remoteDiscoverySelector` is unset
/// (`mirror.linkerd.io/exported=remote-discovery`).
pub fn default_remote_discovery_selector() -> LabelSelector {
    match_label(EXPORTED, EXPORTED_REMOTE_DISCOVERY)
}

/// The selector a Link uses for federated-Service members when its
/// `federatedServiceSelector` is unset (`mirror.linkerd.io/federated=member`).
pub fn default_federated_service_selector() -> LabelSelector {
    match_label(FEDERATED, FEDERATED_MEMBER)
}

fn match_label(key: &str, value: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(key.to_owned(), value.to_owned())])),
        match_expressions: None,
    }
}

#[cfg(test)]
mod tests;
