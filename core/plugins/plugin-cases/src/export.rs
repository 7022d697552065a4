//! Export cases: a remote Service seen through a Link, and how it is expected
//! to be exported.

use serde_norway::Value;
use strait_decisions::export::{
    ExportDecision, FederatedDecision, Link, RemoteService, ServicePort,
};
use strait_decisions::selector::{LabelSelector, Labels, Operator, Requirement};

use crate::read::{At, Fields, list, port, show, string, string_map, strings};
use crate::{CasesError, FieldFault};

/// One export case, ready to run.
#[derive(Clone, Debug)]
pub struct ExportCase {
    /// The case's name, shown in the report.
    pub name: String,
    /// The Service of the target cluster.
    pub service: RemoteService,
    /// The Link it is seen through.
    pub link: Link,
    /// The decision the case expects.
    pub expect: ExportExpect,
    /// Whether the Service must join the federated Service (`federated:
    /// true|false`); unchecked when the case does not say.
    pub federated: Option<bool>,
}

/// What an export case expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportExpect {
    /// Mirrored without Endpoints (pod to pod).
    RemoteDiscovery,
    /// Mirrored behind the Link's gateway.
    Gateway,
    /// Not mirrored; when a text is given, the reason must contain it.
    NotExported(Option<String>),
}

impl std::fmt::Display for ExportExpect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportExpect::RemoteDiscovery => f.write_str("remote-discovery"),
            ExportExpect::Gateway => f.write_str("gateway"),
            ExportExpect::NotExported(None) => f.write_str("not-exported"),
            ExportExpect::NotExported(Some(text)) => {
                write!(f, "not-exported with a reason containing {text:?}")
            }
        }
    }
}

/// How a decision is shown as the `got` of a failed case.
pub fn describe_decision(decision: &ExportDecision) -> String {
    match decision {
        ExportDecision::RemoteDiscovery(_) => "remote-discovery".into(),
        ExportDecision::Gateway(_) => "gateway".into(),
        ExportDecision::NotExported(reason) => format!("not-exported ({reason})"),
    }
}

/// How a federated decision is shown as part of the `got` of a failed case.
pub fn describe_federated(decision: &FederatedDecision) -> String {
    match decision {
        FederatedDecision::Member(_) => "federated".into(),
        FederatedDecision::NotMember(reason) => format!("not federated ({reason})"),
    }
}

/// What a case expects of federation, as shown in the report.
pub fn describe_federated_expect(federated: bool) -> &'static str {
    if federated {
        "federated"
    } else {
        "not federated"
    }
}

/// Whether `decision` is what `expect` asks for.
pub fn satisfies(expect: &ExportExpect, decision: &ExportDecision) -> bool {
    match (expect, decision) {
        (ExportExpect::RemoteDiscovery, ExportDecision::RemoteDiscovery(_)) => true,
        (ExportExpect::Gateway, ExportDecision::Gateway(_)) => true,
        (ExportExpect::NotExported(None), ExportDecision::NotExported(_)) => true,
        (ExportExpect::NotExported(Some(text)), ExportDecision::NotExported(reason)) => {
            reason.contains(text.as_str())
        }
        _ => false,
    }
}

pub(crate) fn parse(name: String, mut fields: Fields<'_, '_>) -> Result<ExportCase, CasesError> {
    let service_at = fields.at("service");
    let service = service(fields.required("service")?, &service_at)?;
    let link_at = fields.at("link");
    let link = link(fields.required("link")?, &link_at)?;
    let expect_at = fields.at("expect");
    let expect = expect(fields.required("expect")?, &expect_at)?;
    let federated = fields.bool("federated")?;
    fields.finish()?;
    Ok(ExportCase {
        name,
        service,
        link,
        expect,
        federated,
    })
}

fn labels(value: Option<&Value>, at: &At<'_>) -> Result<Labels, CasesError> {
    Ok(string_map(value, at)?.into_iter().collect())
}

fn service(value: &Value, at: &At<'_>) -> Result<RemoteService, CasesError> {
    let mut fields = Fields::new(value, at.clone())?;
    let name = fields.required_string("name")?;
    let namespace = fields.required_string("namespace")?;
    let labels_at = fields.at("labels");
    let service_labels = labels(fields.get("labels"), &labels_at)?;
    let annotations_at = fields.at("annotations");
    let annotations = labels(fields.get("annotations"), &annotations_at)?;
    let ports_at = fields.at("ports");
    let ports = list(fields.get("ports"), &ports_at)?
        .iter()
        .enumerate()
        .map(|(i, v)| service_port(v, &ports_at.index(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let headless = fields.bool("headless")?.unwrap_or(false);
    fields.finish()?;
    Ok(RemoteService {
        namespace,
        name,
        labels: service_labels,
        annotations,
        ports,
        headless,
    })
}

fn service_port(value: &Value, at: &At<'_>) -> Result<ServicePort, CasesError> {
    let mut fields = Fields::new(value, at.clone())?;
    let name = fields.string("name")?.unwrap_or_default();
    let protocol = fields.string("protocol")?.unwrap_or_else(|| "TCP".into());
    let port_at = fields.at("port");
    let number = port(fields.required("port")?, &port_at)?;
    let target_at = fields.at("targetPort");
    let target_port = match fields.get("targetPort") {
        None => String::new(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => string(other, &target_at)?,
    };
    fields.finish()?;
    Ok(ServicePort {
        name,
        protocol,
        port: number,
        target_port,
    })
}

fn link(value: &Value, at: &At<'_>) -> Result<Link, CasesError> {
    let mut fields = Fields::new(value, at.clone())?;
    let name = fields.required_string("name")?;
    let target_cluster_name = fields
        .string("targetClusterName")?
        .unwrap_or_else(|| name.clone());
    let has_gateway = fields.bool("gateway")?.unwrap_or(false);
    let selector_at = fields.at("selector");
    let gateway_selector = fields
        .get("selector")
        .map(|v| selector(v, &selector_at))
        .transpose()?;
    let remote_at = fields.at("remoteDiscoverySelector");
    let remote_discovery_selector = fields
        .get("remoteDiscoverySelector")
        .map(|v| selector(v, &remote_at))
        .transpose()?;
    let federated_at = fields.at("federatedServiceSelector");
    let federated_selector = fields
        .get("federatedServiceSelector")
        .map(|v| selector(v, &federated_at))
        .transpose()?;
    fields.finish()?;
    Ok(Link {
        name,
        target_cluster_name,
        selector: gateway_selector,
        remote_discovery_selector,
        has_gateway,
        federated_selector,
    })
}

/// A Kubernetes label selector: `matchLabels` and `matchExpressions`.
fn selector(value: &Value, at: &At<'_>) -> Result<LabelSelector, CasesError> {
    let mut fields = Fields::new(value, at.clone())?;
    let labels_at = fields.at("matchLabels");
    let match_labels = labels(fields.get("matchLabels"), &labels_at)?;
    let expressions_at = fields.at("matchExpressions");
    let match_expressions = list(fields.get("matchExpressions"), &expressions_at)?
        .iter()
        .enumerate()
        .map(|(i, v)| requirement(v, &expressions_at.index(i)))
        .collect::<Result<Vec<_>, _>>()?;
    fields.finish()?;
    let selector = LabelSelector {
        match_labels,
        match_expressions,
    };
    selector
        .validate()
        .map_err(|e| at.error(FieldFault::Selector(e)))?;
    Ok(selector)
}

fn requirement(value: &Value, at: &At<'_>) -> Result<Requirement, CasesError> {
    let mut fields = Fields::new(value, at.clone())?;
    let key = fields.required_string("key")?;
    let operator_at = fields.at("operator");
    let operator = fields
        .required_string("operator")?
        .parse::<Operator>()
        .map_err(|e| operator_at.error(FieldFault::Operator(e)))?;
    let values_at = fields.at("values");
    let values = strings(fields.get("values"), &values_at)?;
    fields.finish()?;
    Ok(Requirement {
        key,
        operator,
        values,
    })
}

/// `remote-discovery`, `gateway`, `not-exported` or `not-exported: <text>`.
fn expect(value: &Value, at: &At<'_>) -> Result<ExportExpect, CasesError> {
    match value {
        Value::String(s) if s == "remote-discovery" => return Ok(ExportExpect::RemoteDiscovery),
        Value::String(s) if s == "gateway" => return Ok(ExportExpect::Gateway),
        Value::String(s) if s == "not-exported" => return Ok(ExportExpect::NotExported(None)),
        Value::Mapping(_) => {}
        other => {
            return Err(at.error(FieldFault::ExportExpectation(show(other))));
        }
    }
    let mut fields = Fields::new(value, at.clone())?;
    let text = fields.required_string("not-exported")?;
    fields.finish()?;
    Ok(ExportExpect::NotExported(Some(text)))
}

#[cfg(test)]
mod tests;
