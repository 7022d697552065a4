//! Authz cases: a client, a request and candidate authorizations, and the
//! decision expected.

use std::net::IpAddr;
use std::sync::Arc;

use serde_norway::Value;
use strait_decisions::authz::{
    Authentication, Authorization, CandidateSet, ClientTls, Decision, Header, HttpRequest, Inbound,
    Protocol, ResourceRef,
};
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::{Cidr, Network};

use crate::read::{At, Fields, describe, list, port, show, string, strings};
use crate::{CasesError, FieldFault};

/// The client address when a case gives none.
pub const DEFAULT_CLIENT_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
/// The destination port when a case gives none.
pub const DEFAULT_PORT: u16 = 8080;

/// One authz case, ready to run.
#[derive(Clone, Debug)]
pub struct AuthzCase {
    /// The case's name, shown in the report.
    pub name: String,
    /// The request (with its client) the plugin decides on.
    pub request: Arc<Inbound>,
    /// The candidate authorizations handed to the plugin.
    pub candidates: CandidateSet,
    /// The decision the case expects.
    pub expect: AuthzExpect,
}

/// What an authz case expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthzExpect {
    /// Admitted; when a reference is given, the decision must report it
    /// (the group is compared only when the reference names one).
    Allow(Option<ExpectedRef>),
    /// Refused; when a text is given, the reason must contain it.
    Deny(Option<String>),
}

/// A reference an `allow` must report: `kind/name` or `group/kind/name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedRef {
    /// Compared only when set.
    pub group: Option<String>,
    /// The reported kind.
    pub kind: String,
    /// The reported name.
    pub name: String,
}

impl ExpectedRef {
    /// Whether `reference` is the one expected.
    pub fn matches(&self, reference: &ResourceRef) -> bool {
        self.group.as_deref().is_none_or(|g| g == &*reference.group)
            && *self.kind == *reference.kind
            && *self.name == *reference.name
    }
}

impl std::fmt::Display for ExpectedRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.group {
            Some(group) => write!(f, "{group}/{}/{}", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

impl std::fmt::Display for AuthzExpect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthzExpect::Allow(None) => f.write_str("allow"),
            AuthzExpect::Allow(Some(r)) => write!(f, "allow {r}"),
            AuthzExpect::Deny(None) => f.write_str("deny"),
            AuthzExpect::Deny(Some(text)) => write!(f, "deny with a reason containing {text:?}"),
        }
    }
}

/// How a decision is shown as the `got` of a failed case.
pub fn describe_decision(decision: &Decision) -> String {
    match decision {
        Decision::Allow(r) if r.group.is_empty() => format!("allow {}/{}", r.kind, r.name),
        Decision::Allow(r) => format!("allow {}/{}/{}", r.group, r.kind, r.name),
        Decision::Deny(reason) => format!("deny ({reason})"),
    }
}

/// Whether `decision` is what `expect` asks for.
pub fn satisfies(expect: &AuthzExpect, decision: &Decision) -> bool {
    match (expect, decision) {
        (AuthzExpect::Allow(None), Decision::Allow(_)) => true,
        (AuthzExpect::Allow(Some(wanted)), Decision::Allow(got)) => wanted.matches(got),
        (AuthzExpect::Deny(None), Decision::Deny(_)) => true,
        (AuthzExpect::Deny(Some(text)), Decision::Deny(reason)) => reason.contains(text.as_str()),
        _ => false,
    }
}

pub(crate) fn parse(name: String, mut fields: Fields<'_, '_>) -> Result<AuthzCase, CasesError> {
    let client_at = fields.at("client");
    let (client_tls, client_ip) = client(fields.required("client")?, &client_at)?;
    let request_at = fields.at("request");
    let request = request(fields.get("request"), &request_at, client_tls, client_ip)?;
    let candidates_at = fields.at("candidates");
    let candidates = list(fields.get("candidates"), &candidates_at)?
        .iter()
        .enumerate()
        .map(|(i, v)| authorization(v, &candidates_at.index(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let expect_at = fields.at("expect");
    let expect = expect(fields.required("expect")?, &expect_at)?;
    fields.finish()?;
    Ok(AuthzCase {
        name,
        request: Arc::new(request),
        candidates: CandidateSet::new(candidates),
        expect,
    })
}

/// `plaintext`, `tls`, or a mapping with one of `mtls: <identity>`,
/// `tls: true`, `plaintext: <reason>`, and an optional `ip`.
fn client(value: &Value, at: &At<'_>) -> Result<(ClientTls, IpAddr), CasesError> {
    let plaintext = || ClientTls::Plaintext("no_tls_from_remote".into());
    match value {
        Value::String(s) if s == "plaintext" => return Ok((plaintext(), DEFAULT_CLIENT_IP)),
        Value::String(s) if s == "tls" => return Ok((ClientTls::TlsAnonymous, DEFAULT_CLIENT_IP)),
        Value::String(s) => {
            return Err(at.error(FieldFault::Client(s.clone())));
        }
        _ => {}
    }
    let mut fields = Fields::new(value, at.clone())?;
    let mut kinds = Vec::new();
    if let Some(identity) = fields.string("mtls")? {
        kinds.push(ClientTls::Mtls(identity));
    }
    match fields.bool("tls") {
        Ok(Some(true)) => kinds.push(ClientTls::TlsAnonymous),
        Ok(Some(false)) | Ok(None) => {}
        Err(_) => {
            return Err(fields.at("tls").error(FieldFault::TlsNotTrue));
        }
    }
    if let Some(reason) = fields.get("plaintext") {
        let reason = match reason {
            Value::Bool(true) => "no_tls_from_remote".to_string(),
            other => string(other, &fields.at("plaintext"))?,
        };
        kinds.push(ClientTls::Plaintext(reason));
    }
    let ip_at = fields.at("ip");
    let ip = match fields.string("ip")? {
        Some(text) => text
            .parse::<IpAddr>()
            .map_err(|source| ip_at.error(FieldFault::Ip { text, source }))?,
        None => DEFAULT_CLIENT_IP,
    };
    fields.finish()?;
    let mut kinds = kinds.into_iter();
    match (kinds.next(), kinds.next()) {
        (Some(tls), None) => Ok((tls, ip)),
        (None, _) => Err(at.error(FieldFault::NoClientKind)),
        (Some(_), Some(_)) => Err(at.error(FieldFault::SeveralClientKinds)),
    }
}

fn request(
    value: Option<&Value>,
    at: &At<'_>,
    client_tls: ClientTls,
    client_ip: IpAddr,
) -> Result<Inbound, CasesError> {
    let empty = Value::Mapping(Default::default());
    let mut fields = Fields::new(value.unwrap_or(&empty), at.clone())?;
    let protocol_at = fields.at("protocol");
    let protocol = match fields.string("protocol")?.as_deref() {
        None | Some("http1") => Protocol::Http1,
        Some("http2") => Protocol::Http2,
        Some("grpc") => Protocol::Grpc,
        Some("opaque") => Protocol::Opaque,
        Some("tls") => Protocol::Tls,
        Some("unknown") => Protocol::Unknown,
        Some(other) => {
            return Err(protocol_at.error(FieldFault::Protocol(other.to_string())));
        }
    };
    let is_http = !matches!(protocol, Protocol::Opaque | Protocol::Tls);
    let method = fields.string("method")?;
    let path = fields.string("path")?;
    let authority = fields.string("authority")?;
    let headers_at = fields.at("headers");
    let headers = headers(fields.get("headers"), &headers_at)?;
    if !is_http
        && (method.is_some() || path.is_some() || authority.is_some() || !headers.is_empty())
    {
        return Err(at.error(FieldFault::HttpOnOpaque));
    }
    let port_at = fields.at("port");
    let port = fields
        .get("port")
        .map(|v| port(v, &port_at))
        .transpose()?
        .unwrap_or(DEFAULT_PORT);
    let server_at = fields.at("server");
    let server = match fields.get("server") {
        Some(v) => reference(v, &server_at)?,
        None => ResourceRef::new("", "default", "all-unauthenticated"),
    };
    let route_at = fields.at("route");
    let route = match fields.get("route") {
        Some(v) => Some(reference(v, &route_at)?),
        None if is_http => Some(ResourceRef::new("", "default", "default")),
        None => None,
    };
    fields.finish()?;
    Ok(Inbound {
        client_tls,
        client_ip,
        server,
        port,
        protocol,
        route,
        http: is_http.then(|| HttpRequest {
            method: method.unwrap_or_else(|| "GET".into()),
            path: path.unwrap_or_else(|| "/".into()),
            authority: authority.unwrap_or_default(),
            headers,
        }),
    })
}

/// `name: value` or `name: [value, ...]`; names are lower-cased as the proxy
/// hands them over.
fn headers(value: Option<&Value>, at: &At<'_>) -> Result<Vec<Header>, CasesError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Mapping(map) = value else {
        return Err(at.error(FieldFault::Headers(describe(value))));
    };
    let mut headers = Vec::new();
    for (name, values) in map {
        let name = string(name, at)?.to_ascii_lowercase();
        let value_at = at.field(&name);
        let values = match values {
            Value::Sequence(_) => strings(Some(values), &value_at)?,
            other => vec![string(other, &value_at)?],
        };
        headers.extend(values.into_iter().map(|value| Header {
            name: name.clone(),
            value,
        }));
    }
    Ok(headers)
}

/// `kind/name`, `group/kind/name`, or a mapping with `group`, `kind`, `name`.
pub(crate) fn reference(value: &Value, at: &At<'_>) -> Result<ResourceRef, CasesError> {
    let (group, kind, name) = match value {
        Value::String(text) => {
            let r = expected_ref(text, at)?;
            (r.group.unwrap_or_default(), r.kind, r.name)
        }
        _ => {
            let mut fields = Fields::new(value, at.clone())?;
            let group = fields.string("group")?.unwrap_or_default();
            let kind = fields.required_string("kind")?;
            let name = fields.required_string("name")?;
            fields.finish()?;
            (group, kind, name)
        }
    };
    Ok(ResourceRef::new(group, kind, name))
}

fn expected_ref(text: &str, at: &At<'_>) -> Result<ExpectedRef, CasesError> {
    let parts: Vec<&str> = text.split('/').collect();
    let bad = || at.error(FieldFault::Reference(text.to_string()));
    match parts.as_slice() {
        [kind, name] if !kind.is_empty() && !name.is_empty() => Ok(ExpectedRef {
            group: None,
            kind: kind.to_string(),
            name: name.to_string(),
        }),
        [group, kind, name] if !kind.is_empty() && !name.is_empty() => Ok(ExpectedRef {
            group: Some(group.to_string()),
            kind: kind.to_string(),
            name: name.to_string(),
        }),
        _ => Err(bad()),
    }
}

fn authorization(value: &Value, at: &At<'_>) -> Result<Authorization, CasesError> {
    let mut fields = Fields::new(value, at.clone())?;
    let reference_at = fields.at("reference");
    let reference = reference(fields.required("reference")?, &reference_at)?;
    let networks_at = fields.at("networks");
    let networks = if fields.has("networks") {
        list(fields.get("networks"), &networks_at)?
            .iter()
            .enumerate()
            .map(|(i, v)| network(v, &networks_at.index(i)))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        fields.get("networks");
        Network::all().to_vec()
    };
    let authentication_at = fields.at("authentication");
    let authentication = authentication(fields.required("authentication")?, &authentication_at)?;
    fields.finish()?;
    Ok(Authorization {
        reference,
        networks,
        authentication,
    })
}

/// `10.0.0.0/8`, a bare address, or `{cidr: ..., except: [...]}`.
fn network(value: &Value, at: &At<'_>) -> Result<Network, CasesError> {
    if let Value::String(text) = value {
        return Ok(Network {
            cidr: cidr(text, at)?,
            except: Vec::new(),
        });
    }
    let mut fields = Fields::new(value, at.clone())?;
    let cidr_at = fields.at("cidr");
    let range = cidr(&fields.required_string("cidr")?, &cidr_at)?;
    let except_at = fields.at("except");
    let except = strings(fields.get("except"), &except_at)?
        .iter()
        .enumerate()
        .map(|(i, text)| cidr(text, &except_at.index(i)))
        .collect::<Result<Vec<_>, _>>()?;
    fields.finish()?;
    Ok(Network {
        cidr: range,
        except,
    })
}

fn cidr(text: &str, at: &At<'_>) -> Result<Cidr, CasesError> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        let len = if ip.is_ipv4() { 32 } else { 128 };
        return Cidr::new(ip, len).map_err(|e| at.error(FieldFault::Cidr(e)));
    }
    text.parse::<Cidr>()
        .map_err(|e| at.error(FieldFault::Cidr(e)))
}

/// `unauthenticated`, `tls-unauthenticated`, or
/// `tls-authenticated: {identities: [...], suffixes: [...]}`.
fn authentication(value: &Value, at: &At<'_>) -> Result<Authentication, CasesError> {
    match value {
        Value::String(s) if s == "unauthenticated" => return Ok(Authentication::Unauthenticated),
        Value::String(s) if s == "tls-unauthenticated" => {
            return Ok(Authentication::TlsUnauthenticated);
        }
        Value::String(s) => {
            return Err(at.error(FieldFault::Authentication(s.clone())));
        }
        _ => {}
    }
    let mut fields = Fields::new(value, at.clone())?;
    let inner_at = fields.at("tls-authenticated");
    let inner = fields.required("tls-authenticated")?;
    fields.finish()?;
    let mut rule = Fields::new(inner, inner_at.clone())?;
    let identities = strings(rule.get("identities"), &inner_at.field("identities"))?;
    let suffixes = strings(rule.get("suffixes"), &inner_at.field("suffixes"))?;
    rule.finish()?;
    Ok(Authentication::TlsAuthenticated(IdentityMatch {
        identities,
        suffixes,
    }))
}

/// `allow`, `deny`, `allow: <ref>` or `deny: <text in the reason>`.
fn expect(value: &Value, at: &At<'_>) -> Result<AuthzExpect, CasesError> {
    match value {
        Value::String(s) if s == "allow" => return Ok(AuthzExpect::Allow(None)),
        Value::String(s) if s == "deny" => return Ok(AuthzExpect::Deny(None)),
        Value::Mapping(_) => {}
        other => {
            return Err(at.error(FieldFault::AuthzExpectation(show(other))));
        }
    }
    let mut fields = Fields::new(value, at.clone())?;
    let allow_at = fields.at("allow");
    let allow = fields.string("allow")?;
    let deny = fields.string("deny")?;
    fields.finish()?;
    match (allow, deny) {
        (Some(r), None) => Ok(AuthzExpect::Allow(Some(expected_ref(&r, &allow_at)?))),
        (None, Some(text)) => Ok(AuthzExpect::Deny(Some(text))),
        _ => Err(at.error(FieldFault::AllowOrDeny)),
    }
}

#[cfg(test)]
mod tests;
