//! `Link` (`multicluster.linkerd.io/v1alpha3`): how this cluster reaches a
//! target cluster and which of its Services to mirror.
//!
//! The same resource `linkerd multicluster link-gen` prints, so a Link made
//! for Linkerd drives strait's service mirror unchanged. Linkerd declares
//! every scalar field a string (`gatewayPort: "4143"`, not `4143`); the API
//! server refuses a number, and so do these types when decoding the JSON it
//! serves.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `type` of the one condition Linkerd reports for a mirrored Service.
pub const MIRRORED_CONDITION: &str = "Mirrored";

/// Condition reasons Linkerd reports, which `linkerd multicluster check`
/// and dashboards match on.
pub mod reason {
    /// The Service is mirrored.
    pub const MIRRORED: &str = "Mirrored";
    /// The remote Service cannot be mirrored as it is (e.g. no ports).
    pub const INVALID_SERVICE: &str = "InvalidService";
    /// Mirroring failed; the message says why.
    pub const ERROR: &str = "Error";
    /// The remote Service's namespace does not exist in this cluster, so
    /// its mirror cannot be created until it does.
    pub const MISSING_NAMESPACE: &str = "MissingNamespace";
    /// A federated member whose ports differ from the federated Service's
    /// (same port with another name or protocol, or another set of ports):
    /// it is a member, but clients of a port it lacks or names otherwise
    /// do not reach it as they would the others. strait's own reason;
    /// Linkerd takes the ports of one member silently.
    pub const PORT_CONFLICT: &str = "PortConflict";
}

/// The target cluster a service mirror controller watches, and what it
/// mirrors from it.
///
/// All fields are optional, as in Linkerd: a gatewayless Link (the
/// pod-to-pod mode) has no gateway fields and no probe.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "multicluster.linkerd.io",
    version = "v1alpha3",
    kind = "Link",
    namespaced,
    status = "LinkStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "A link to a target cluster, as Linkerd's `link-gen` writes it: read by the service mirror controller, whose progress is written to its status."
)]
#[serde(rename_all = "camelCase")]
pub struct LinkSpec {
    /// Name of the target cluster: the suffix of mirror Services'
    /// names (`<svc>-<name>`) and the value of their cluster-name label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_cluster_name: Option<String>,
    /// DNS domain of the target cluster (e.g. `cluster.local`), to name
    /// remote Services fully.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_cluster_domain: Option<String>,
    /// Namespace of the target cluster's control plane, part of its pods'
    /// TLS identities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_cluster_linkerd_namespace: Option<String>,
    /// Name of the Secret, in the Link's namespace, holding the kubeconfig
    /// that reaches the target cluster's API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_credentials_secret: Option<String>,
    /// Gateway mode: address(es) of the target cluster's gateway,
    /// comma-separated, that mirror Endpoints point at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_address: Option<String>,
    /// Gateway mode: the gateway's port, as a string (e.g. `"4143"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_port: Option<String>,
    /// Gateway mode: the gateway's TLS identity, which clients verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_identity: Option<String>,
    /// Gateway mode: how the gateway's liveness is probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe_spec: Option<ProbeSpec>,
    /// Remote Services to mirror through the gateway; unset or empty
    /// matches nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Remote Services to mirror in remote-discovery (pod-to-pod) mode;
    /// unset or empty matches nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_discovery_selector: Option<LabelSelector>,
    /// Remote Services that join federated Services; unset or empty matches
    /// nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federated_service_selector: Option<LabelSelector>,
    /// Labels not copied from remote Services to mirrors: exact keys, or
    /// `prefix/*` for a whole prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_labels: Option<Vec<String>>,
    /// Annotations not copied from remote Services to mirrors: exact keys,
    /// or `prefix/*` for a whole prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_annotations: Option<Vec<String>>,
}

/// The gateway liveness probe; all values are strings, as in Linkerd.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSpec {
    /// HTTP path of the gateway's health endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port of the gateway's health endpoint, as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Time between probes, a Go duration (e.g. `"3s"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Time a probe may take, a Go duration; the API server fills in `30s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "30s"))]
    pub timeout: Option<String>,
    /// Consecutive failures before the gateway counts as down, as a string;
    /// the API server fills in `"3"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "3"))]
    pub failure_threshold: Option<String>,
}

/// What the controller did with each remote Service the Link selects, so
/// that `kubectl get link -o yaml` and `check` can explain a missing mirror.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkStatus {
    /// One entry per remote Service selected for mirroring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror_services: Option<Vec<ServiceStatus>>,
    /// One entry per remote Service selected as a federated member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federated_services: Option<Vec<ServiceStatus>>,
}

/// The state of one remote Service's mirror.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// The controller that wrote this entry (`domain/path`), so that each
    /// controller cleans up only its own entries.
    pub controller_name: String,
    /// The Service in the target cluster.
    pub remote_ref: ObjectRef,
    /// The outcome of mirroring it (one `Mirrored` condition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<LinkCondition>>,
}

/// A reference to a Service in one of the two clusters.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// API group; unset means the core group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind; unset means `Service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name of the object.
    pub name: String,
    /// Namespace of the object.
    pub namespace: String,
}

/// How mirroring one remote Service went.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkCondition {
    /// Kind of condition: `Mirrored`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Whether the condition holds.
    pub status: ConditionStatus,
    /// Why, in one CamelCase word: `Mirrored`, `InvalidService`, `Error`
    /// or `MissingNamespace`.
    pub reason: String,
    /// Why, for a human; may be empty.
    pub message: String,
    /// When `status` last changed, so that flapping is visible.
    pub last_transition_time: Time,
    /// The mirror Service in this cluster, once there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_ref: Option<ObjectRef>,
}

/// Whether a condition holds; Kubernetes' three values, spelled as on the
/// wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// The controller cannot tell.
    Unknown,
}

#[cfg(test)]
mod tests;
