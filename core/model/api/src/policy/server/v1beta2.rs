//! `policy.linkerd.io/v1beta2` Server: adds ExternalWorkloads (VMs meshed
//! without Kubernetes) as an alternative to pods.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProxyProtocol;

/// A port of the pods, or of the external workloads, a selector picks.
#[derive(CustomResource, Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1beta2",
    kind = "Server",
    namespaced,
    shortname = "srv",
    derive = "PartialEq",
    printcolumn = r#"{"name": "Port", "type": "string", "description": "The port the server is listening on", "jsonPath": ".spec.port"}"#,
    printcolumn = r#"{"name": "Protocol", "type": "string", "description": "The protocol of the server", "jsonPath": ".spec.proxyProtocol"}"#,
    doc = "A Server in its v1beta2 form."
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("oneOf" = [
    {"required": ["podSelector"]},
    {"required": ["externalWorkloadSelector"]}
]))]
pub struct ServerSpec {
    /// Pods in the Server's namespace; exactly one of this and
    /// `externalWorkloadSelector` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    /// ExternalWorkloads in the Server's namespace; exactly one of this and
    /// `podSelector` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_workload_selector: Option<LabelSelector>,
    /// The workloads' port: a number, or the name of a container port.
    pub port: IntOrString,
    /// How connections are handled; unset means `unknown` (detect).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "unknown"))]
    pub proxy_protocol: Option<ProxyProtocol>,
}
