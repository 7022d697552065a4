//! Test cases for strait plugins, written in YAML and run through the real
//! plugin host: the library behind `strait plugin test`.
//!
//! A cases file is a YAML list. Each case has a `name`, the inputs of one
//! plugin call, and what the plugin is expected to decide. A file holds cases
//! of one kind, the kind of the plugin under test; every field is checked, so
//! a misspelt field is an error naming the case and the field, never a silent
//! default.
//!
//! # Authz cases
//!
//! ```yaml
//! - name: admin may delete
//!   client:                       # who connects; required
//!     mtls: admin.mc-demo.serviceaccount.identity.linkerd.cluster.local
//!     ip: 10.42.0.7               # default 10.0.0.1
//!   request:                      # optional; every field has a default
//!     method: DELETE              # default GET
//!     path: /items/1              # default /
//!     authority: web.mc-demo.svc.cluster.local:8080   # default empty
//!     headers: {x-user: alice, x-tags: [a, b]}        # one value or a list
//!     port: 8080                  # default 8080
//!     server: policy.linkerd.io/server/web            # default default/all-unauthenticated
//!     route: policy.gateway.networking.k8s.io/httproute/items   # default default/default
//!     protocol: http1             # unknown | http1 (default) | http2 | grpc | opaque | tls
//!   candidates:                   # the policy's authorizations, in order; default none
//!     - reference: policy.linkerd.io/authorizationpolicy/web-authz
//!       networks: [10.0.0.0/8, {cidr: 0.0.0.0/0, except: [192.168.0.0/16]}]  # default any
//!       authentication:
//!         tls-authenticated:
//!           identities: [admin.mc-demo.serviceaccount.identity.linkerd.cluster.local]
//!           suffixes: [shop.serviceaccount.identity.linkerd.cluster.local]
//!   expect:
//!     allow: authorizationpolicy/web-authz
//! ```
//!
//! - `client` is `plaintext`, `tls` (TLS without a client certificate), or a
//!   mapping with one of `mtls: <identity>`, `tls: true`,
//!   `plaintext: <reason>` (or `plaintext: true`), and optionally `ip`.
//! - References (`server`, `route`, `reference`) are `kind/name`,
//!   `group/kind/name`, or a mapping with `group`, `kind` and `name`.
//! - With `protocol: opaque` or `tls` the call is a connection-level decision:
//!   no method, path, authority or headers, and no route unless given.
//! - `authentication` is `unauthenticated`, `tls-unauthenticated`, or
//!   `tls-authenticated` with `identities` and `suffixes` (MeshTLSAuthentication
//!   matching: an exact identity, or `.`-suffix; the empty suffix is any).
//! - `networks` lists ranges (`10.0.0.0/8`, or a bare address for one host)
//!   or mappings with `cidr` and `except`; left out, it is any address
//!   (`0.0.0.0/0` and `::/0`); an empty list admits no client.
//! - `expect` is `allow`, `deny`, `allow: <kind>/<name>` (the reference the
//!   decision reports; `group/kind/name` compares the group too), or
//!   `deny: <text>` (the reason must contain the text).
//!
//! # Export cases
//!
//! ```yaml
//! - name: annotated service goes pod to pod
//!   service:
//!     name: web                   # required
//!     namespace: mc-demo          # required
//!     labels: {app: web}
//!     annotations: {strait.io/export: remote-discovery}
//!     ports: [{name: http, port: 8080, protocol: TCP, targetPort: 8080}]
//!     headless: false
//!   link:
//!     name: east                  # required
//!     targetClusterName: east     # default: the name
//!     gateway: true               # whether the Link has a gateway; default false
//!     selector: {matchLabels: {mirror.linkerd.io/exported: "true"}}
//!     remoteDiscoverySelector:
//!       matchExpressions: [{key: mirror.linkerd.io/exported, operator: In, values: [remote-discovery]}]
//!     federatedServiceSelector: {matchLabels: {mirror.linkerd.io/federated: member}}
//!   expect: remote-discovery      # remote-discovery | gateway | not-exported | not-exported: <text>
//!   federated: true               # whether it joins <name>-federated; unchecked when left out
//! ```
//!
//! Selectors are Kubernetes label selectors (`matchLabels`,
//! `matchExpressions` with `In`, `NotIn`, `Exists`, `DoesNotExist`); a
//! Link's selector that is left out is absent.
//!
//! # Running
//!
//! [`load`] reads a file for a plugin kind ([`detect_kind`] tells the kind of
//! a component), and [`run`] calls the plugin once per case through the same
//! host the mesh uses, with its limits: a call that traps or runs out of time
//! or memory fails its case whatever the case expects.

mod authz;
mod export;
mod read;
mod run;

use serde_norway::Value;
use strait_decisions::net::CidrError;
use strait_decisions::selector::SelectorError;
use strait_plugin_host::PluginKind;

pub use authz::{AuthzCase, AuthzExpect, DEFAULT_CLIENT_IP, DEFAULT_PORT, ExpectedRef};
pub use export::{ExportCase, ExportExpect};
pub use run::{CaseResult, Report, detect_kind, run};

use read::{At, Fields};

/// The cases of one file, of the kind of the plugin they test.
#[derive(Clone, Debug)]
pub enum Cases {
    /// Cases for an authz plugin.
    Authz(Vec<AuthzCase>),
    /// Cases for an export plugin.
    Export(Vec<ExportCase>),
}

impl Cases {
    /// The plugin kind the cases are for.
    pub fn kind(&self) -> PluginKind {
        match self {
            Cases::Authz(_) => PluginKind::Authz,
            Cases::Export(_) => PluginKind::Export,
        }
    }

    /// How many cases there are.
    pub fn len(&self) -> usize {
        match self {
            Cases::Authz(cases) => cases.len(),
            Cases::Export(cases) => cases.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A cases file that cannot be used, with what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    /// The text is not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(#[source] serde_norway::Error),
    /// The document is not a list of cases.
    #[error("expected a list of cases, found {0}")]
    NotAList(String),
    /// The file has no cases, so it would pass without testing anything.
    #[error("the file has no cases")]
    Empty,
    /// A field of one case is missing, unknown or malformed.
    #[error("case {case}: {field}: {reason}")]
    Field {
        /// The case's index and name, e.g. `2 ("admin may delete")`.
        case: String,
        /// The field's path, e.g. `request.port` or `candidates[0].networks[1]`.
        field: String,
        /// What is wrong.
        #[source]
        reason: FieldFault,
    },
    /// A case is for the other kind of plugin.
    #[error(
        "case {case} is an {case_kind} case (it has `{field}`), but the plugin is an {plugin_kind} plugin"
    )]
    WrongKind {
        /// The case's index and name.
        case: String,
        /// The kind the case's fields belong to.
        case_kind: PluginKind,
        /// The plugin's kind.
        plugin_kind: PluginKind,
        /// The field that gives the case away.
        field: &'static str,
    },
}

/// What is wrong with one field of a case; [`CasesError::Field`] names the
/// case and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldFault {
    /// A required field is absent.
    #[error("missing")]
    Missing,
    /// A value of the wrong YAML type.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the field takes, e.g. `a mapping`.
        expected: &'static str,
        /// What it holds, e.g. `a list`.
        found: &'static str,
    },
    /// A number or boolean where a string belongs.
    #[error("expected a string, found {0} (quote it)")]
    NotAString(&'static str),
    /// A mapping key that is not a string.
    #[error("a key is {0}, not a field name")]
    KeyNotAName(&'static str),
    /// A field the mapping does not take (often a misspelling).
    #[error("unknown field (expected one of: {})", .0.join(", "))]
    UnknownField(Vec<&'static str>),
    /// Not a port number.
    #[error("expected a port number (0-65535), found {0}")]
    Port(String),
    /// A client that is none of the known forms.
    #[error(
        "{0:?} is not a client (expected plaintext, tls, or a mapping with mtls, tls or \
         plaintext, and ip)"
    )]
    Client(String),
    /// `tls:` with something other than `true`.
    #[error("expected true (TLS without a client certificate)")]
    TlsNotTrue,
    /// A client address that is no IP address.
    #[error("{text:?} is not an IP address")]
    Ip {
        /// The text as written.
        text: String,
        /// What the parser said.
        #[source]
        source: std::net::AddrParseError,
    },
    /// A client with none of `mtls`, `tls` and `plaintext`.
    #[error("give one of mtls: <identity>, tls: true or plaintext: <reason>")]
    NoClientKind,
    /// A client with more than one of `mtls`, `tls` and `plaintext`.
    #[error("give only one of mtls, tls and plaintext")]
    SeveralClientKinds,
    /// An unknown protocol.
    #[error("{0:?} is not a protocol (expected unknown, http1, http2, grpc, opaque or tls)")]
    Protocol(String),
    /// HTTP fields on a connection that carries no HTTP.
    #[error("an opaque or tls connection carries no method, path, authority or headers")]
    HttpOnOpaque,
    /// Headers that are not a mapping.
    #[error("expected a mapping of header names to values, found {0}")]
    Headers(&'static str),
    /// A reference that is neither `kind/name` nor `group/kind/name`.
    #[error("{0:?} is not a reference (expected kind/name or group/kind/name)")]
    Reference(String),
    /// An address range that does not parse.
    #[error("{0}")]
    Cidr(#[source] CidrError),
    /// An unknown authentication.
    #[error(
        "{0:?} is not an authentication (expected unauthenticated, tls-unauthenticated or \
         tls-authenticated: {{identities, suffixes}})"
    )]
    Authentication(String),
    /// An authz expectation that is none of the known forms.
    #[error(
        "{0} is not an authz expectation (expected allow, deny, allow: <kind>/<name> or \
         deny: <text>)"
    )]
    AuthzExpectation(String),
    /// Both or neither of `allow` and `deny`.
    #[error("give exactly one of allow and deny")]
    AllowOrDeny,
    /// A selector the API server would refuse, by key.
    #[error("{}: {}", .0.key, .0.reason)]
    Selector(#[source] SelectorError),
    /// An unknown selector operator.
    #[error("{}", .0.reason)]
    Operator(#[source] SelectorError),
    /// An export expectation that is none of the known forms.
    #[error(
        "{0} is not an export expectation (expected remote-discovery, gateway, not-exported \
         or not-exported: <text>)"
    )]
    ExportExpectation(String),
}

/// Fields only a case of one kind has.
const AUTHZ_ONLY: &[&str] = &["client", "request", "candidates"];
const EXPORT_ONLY: &[&str] = &["service", "link"];

/// Reads the cases in `text` for a plugin of `kind`.
pub fn load(text: &str, kind: PluginKind) -> Result<Cases, CasesError> {
    let document: Value = serde_norway::from_str(text).map_err(CasesError::Yaml)?;
    let items = match &document {
        Value::Sequence(items) => items,
        other => return Err(CasesError::NotAList(read::describe(other).to_string())),
    };
    if items.is_empty() {
        return Err(CasesError::Empty);
    }
    let mut authz = Vec::new();
    let mut export = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let label = case_label(index, item);
        let at = At {
            case: &label,
            path: String::new(),
        };
        let mut fields = Fields::new(item, at.clone()).map_err(|_| CasesError::Field {
            case: label.clone(),
            field: "(case)".into(),
            reason: FieldFault::Expected {
                expected: "a mapping",
                found: read::describe(item),
            },
        })?;
        let (foreign, foreign_kind) = match kind {
            PluginKind::Authz => (EXPORT_ONLY, PluginKind::Export),
            PluginKind::Export => (AUTHZ_ONLY, PluginKind::Authz),
        };
        if let Some(field) = foreign.iter().find(|f| fields.has(f)) {
            return Err(CasesError::WrongKind {
                case: label.clone(),
                case_kind: foreign_kind,
                plugin_kind: kind,
                field,
            });
        }
        let name = fields.required_string("name")?;
        match kind {
            PluginKind::Authz => authz.push(authz::parse(name, fields)?),
            PluginKind::Export => export.push(export::parse(name, fields)?),
        }
    }
    Ok(match kind {
        PluginKind::Authz => Cases::Authz(authz),
        PluginKind::Export => Cases::Export(export),
    })
}

/// `2 ("admin may delete")`, or just the index while the name is unknown.
fn case_label(index: usize, item: &Value) -> String {
    match item.get("name") {
        Some(Value::String(name)) => format!("{index} ({name:?})"),
        _ => index.to_string(),
    }
}

#[cfg(test)]
mod tests;
