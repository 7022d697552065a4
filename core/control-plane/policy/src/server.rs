//! Servers as the index keeps them: selector converted, the rest as written.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as K8sSelector, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::policy::{ProxyProtocol, Server};
use strait_decisions::authz::Protocol;
use strait_decisions::selector::{LabelSelector, Labels, Operator, Requirement};

use crate::config::DefaultPolicy;

/// One Server, reduced to what selects pods and shapes their policy.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ServerInfo {
    /// The Server's own labels, which ServerAuthorization selectors match.
    pub(crate) labels: Labels,
    /// Selected pods; none for an invalid selector or an ExternalWorkload
    /// selector, which select no pods.
    pub(crate) pod_selector: Option<LabelSelector>,
    /// The port, as written: a number or a container port name.
    pub(crate) port: IntOrString,
    /// The declared protocol.
    pub(crate) protocol: Protocol,
    /// What clients no authorization admits get; `deny` when unset, as
    /// the API server fills in.
    pub(crate) access_policy: DefaultPolicy,
    /// When the Server was created: the oldest wins when several select a
    /// port, as in Linkerd.
    pub(crate) created: Option<Time>,
}

impl ServerInfo {
    /// Reads a Server. An unknown `accessPolicy` is taken as `deny`, so a
    /// typo never opens a port.
    pub(crate) fn from_server(server: &Server) -> Self {
        let spec = &server.spec;
        ServerInfo {
            labels: server.metadata.labels.clone().unwrap_or_default(),
            pod_selector: spec.pod_selector.as_ref().and_then(convert_selector),
            port: spec.port.clone(),
            protocol: protocol(spec.proxy_protocol.unwrap_or_default()),
            access_policy: spec
                .access_policy
                .as_deref()
                .and_then(|p| p.parse().ok())
                .unwrap_or(DefaultPolicy::Deny),
            created: server.metadata.creation_timestamp.clone(),
        }
    }
}

/// The decision crate's protocol for a Server's `proxyProtocol`.
pub(crate) fn protocol(protocol: ProxyProtocol) -> Protocol {
    match protocol {
        ProxyProtocol::Unknown => Protocol::Unknown,
        ProxyProtocol::Http1 => Protocol::Http1,
        ProxyProtocol::Http2 => Protocol::Http2,
        ProxyProtocol::Grpc => Protocol::Grpc,
        ProxyProtocol::Opaque => Protocol::Opaque,
        ProxyProtocol::Tls => Protocol::Tls,
    }
}

/// A Kubernetes selector in the decision crate's form; none if invalid, so
/// that a malformed selector selects nothing rather than everything.
pub(crate) fn convert_selector(selector: &K8sSelector) -> Option<LabelSelector> {
    let match_expressions = selector
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            let requirement = Requirement {
                key: e.key.clone(),
                operator: e.operator.parse::<Operator>().ok()?,
                values: e.values.clone().unwrap_or_default(),
            };
            requirement.validate().ok()?;
            Some(requirement)
        })
        .collect::<Option<Vec<_>>>()?;
    Some(LabelSelector {
        match_labels: selector.match_labels.clone().unwrap_or_default(),
        match_expressions,
    })
}
