//! `policy.linkerd.io/v1beta1` Server, the version Linkerd's guides write
//! (deprecated by Linkerd in favour of `v1beta3`, but still served).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProxyProtocol;

/// A port of the pods a selector picks.
#[derive(CustomResource, Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "policy.linkerd.io",
    version = "v1beta1",
    kind = "Server",
    namespaced,
    shortname = "srv",
    derive = "PartialEq",
    deprecated = "policy.linkerd.io/v1beta1 Server is deprecated; use policy.linkerd.io/v1beta3 Server",
    printcolumn = r#"{"name": "Port", "type": "string", "description": "The port the server is listening on", "jsonPath": ".spec.port"}"#,
    printcolumn = r#"{"name": "Protocol", "type": "string", "description": "The protocol of the server", "jsonPath": ".spec.proxyProtocol"}"#,
    doc = "A Server in its v1beta1 form, as the pod-to-pod guide applies it."
)]
#[serde(rename_all = "camelCase")]
pub struct ServerSpec {
    /// Pods in the Server's namespace; an empty selector picks all.
    pub pod_selector: LabelSelector,
    /// The pods' port: a number, or the name of a container port.
    pub port: IntOrString,
    /// How connections are handled; unset means `unknown` (detect).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "unknown"))]
    pub proxy_protocol: Option<ProxyProtocol>,
}
