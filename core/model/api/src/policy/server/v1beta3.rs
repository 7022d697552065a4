//! `policy.linkerd.io/v1beta3` Server, the version Linkerd stores: adds the
//! access policy for traffic no authorization matches.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProxyProtocol;

/// A port of the pods, or of the external workloads, a selector picks, and
/// what happens to traffic no policy authorizes.
#[derive(CustomResource, Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1beta3",
    kind = "Server",
    namespaced,
    shortname = "srv",
    derive = "PartialEq",
    printcolumn = r#"{"name": "Port", "type": "string", "description": "The port the server is listening on", "jsonPath": ".spec.port"}"#,
    printcolumn = r#"{"name": "Protocol", "type": "string", "description": "The protocol of the server", "jsonPath": ".spec.proxyProtocol"}"#,
    printcolumn = r#"{"name": "Access Policy", "type": "string", "description": "The default access policy applied when the traffic doesn't match any of the policy rules", "jsonPath": ".spec.accessPolicy"}"#,
    doc = "A Server in its v1beta3 form, the one stored and watched."
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
    /// The default policy (`deny`, `all-unauthenticated`, `audit`, ...) for
    /// traffic no authorization matches; the API server fills in `deny`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "deny"))]
    pub access_policy: Option<String>,
}
