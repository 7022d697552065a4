//! Inbound authorization: the inputs the proxy gathers for a connection or
//! request, the candidate authorizations computed from policy resources, and
//! Linkerd's rule for choosing among them.

use std::fmt;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::identity::IdentityMatch;
use crate::net::Network;

/// A Kubernetes resource (or built-in default) as it appears in metric labels.
/// The names are shared (`Arc<str>`): one reference is handed out with every
/// request it admits, so copying it must cost no allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRef {
    /// API group, e.g. `policy.linkerd.io`; empty for built-in defaults.
    pub group: Arc<str>,
    /// Lower-case kind, e.g. `server`, `authorizationpolicy`, `default`.
    pub kind: Arc<str>,
    /// Resource name, e.g. `bb-authz`, `all-unauthenticated`, `probe`.
    pub name: Arc<str>,
}

impl ResourceRef {
    /// Shorthand used by tests, fixtures and the policy index.
    pub fn new(
        group: impl Into<Arc<str>>,
        kind: impl Into<Arc<str>>,
        name: impl Into<Arc<str>>,
    ) -> Self {
        ResourceRef {
            group: group.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// How the client connected to the proxy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientTls {
    /// No TLS; the reason as reported in the `no_tls_reason` metric label.
    Plaintext(String),
    /// TLS without a client certificate.
    TlsAnonymous,
    /// Mutual TLS with this verified identity.
    Mtls(String),
}

/// The server's protocol, as declared by `proxyProtocol` or detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Detect HTTP, else opaque.
    Unknown,
    /// HTTP/1.x.
    Http1,
    /// HTTP/2.
    Http2,
    /// gRPC over HTTP/2.
    Grpc,
    /// Opaque TCP, authorized per connection.
    Opaque,
    /// TLS passed through untouched.
    Tls,
}

/// One HTTP header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Lower-case header name.
    pub name: String,
    /// Value; non-UTF-8 bytes replaced by U+FFFD.
    pub value: String,
}

/// The HTTP request being authorized.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The `:authority` or `Host`.
    pub authority: String,
    /// Request headers.
    pub headers: Vec<Header>,
}

/// The connection or request being authorized.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Inbound {
    /// Transport security of the client.
    pub client_tls: ClientTls,
    /// The client's address.
    pub client_ip: IpAddr,
    /// The Server, or default server, of the destination port.
    pub server: ResourceRef,
    /// The destination port.
    pub port: u16,
    /// The server's protocol.
    pub protocol: Protocol,
    /// The matched route; none for connection-level decisions.
    pub route: Option<ResourceRef>,
    /// The request; none for connection-level decisions.
    pub http: Option<HttpRequest>,
}

/// Which clients an authorization admits, by transport security.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Authentication {
    /// Everyone.
    Unauthenticated,
    /// Clients that use TLS, with or without a certificate.
    TlsUnauthenticated,
    /// Mutually authenticated clients whose identity matches.
    TlsAuthenticated(IdentityMatch),
}

impl Authentication {
    /// Whether a client with this transport security is admitted.
    pub fn admits(&self, tls: &ClientTls) -> bool {
        match (self, tls) {
            (Authentication::Unauthenticated, _) => true,
            (Authentication::TlsUnauthenticated, ClientTls::TlsAnonymous | ClientTls::Mtls(_)) => {
                true
            }
            (Authentication::TlsAuthenticated(ids), ClientTls::Mtls(id)) => ids.matches(id),
            _ => false,
        }
    }
}

/// A candidate authorization for a server port or route.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Authorization {
    /// Reported when this authorization admits a request.
    pub reference: ResourceRef,
    /// Admitted client networks; empty admits no one.
    pub networks: Vec<Network>,
    /// Admitted transport security.
    pub authentication: Authentication,
}

impl Authorization {
    /// Whether this authorization admits the request.
    pub fn admits(&self, request: &Inbound) -> bool {
        self.admits_client(&request.client_tls, request.client_ip)
    }

    /// Whether this authorization admits a client, which is all Linkerd's
    /// rule looks at: its address and its transport security.
    pub fn admits_client(&self, tls: &ClientTls, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip)) && self.authentication.admits(tls)
    }
}

/// The candidate authorizations of one server port or route, shared and
/// immutable, with a process-unique id. The policy index builds one per policy
/// change; the plugin host uses the id to hand each set to a plugin instance
/// once and refer to it afterwards.
#[derive(Clone, Debug)]
pub struct CandidateSet {
    id: u64,
    authorizations: Arc<[Authorization]>,
}

impl CandidateSet {
    /// A new set with a fresh id.
    pub fn new(authorizations: Vec<Authorization>) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        CandidateSet {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            authorizations: authorizations.into(),
        }
    }

    /// Unique within the process; two sets with equal contents have different ids.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Deref for CandidateSet {
    type Target = [Authorization];

    fn deref(&self) -> &[Authorization] {
        &self.authorizations
    }
}

/// The outcome of an authorization.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Admitted by this authorization.
    Allow(ResourceRef),
    /// Refused, with a reason for logs.
    Deny(String),
}

impl Decision {
    /// Whether the request is admitted.
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

/// Linkerd's rule: the first candidate that admits the request wins; if none
/// does, the request is refused.
pub fn authorize(request: &Inbound, candidates: &[Authorization]) -> Decision {
    match first_admitting(request, candidates) {
        Some(i) => Decision::Allow(candidates[i].reference.clone()),
        None => Decision::Deny(deny_reason(candidates.len())),
    }
}

/// The index of the candidate that wins under Linkerd's rule, so callers that
/// own the candidates can take the winner's reference without copying it.
pub fn first_admitting(request: &Inbound, candidates: &[Authorization]) -> Option<usize> {
    first_admitting_client(&request.client_tls, request.client_ip, candidates)
}

/// [`first_admitting`] for callers that have only the client's details.
pub fn first_admitting_client(
    tls: &ClientTls,
    ip: IpAddr,
    candidates: &[Authorization],
) -> Option<usize> {
    candidates.iter().position(|a| a.admits_client(tls, ip))
}

/// The reason given with a denial. It names no request detail: the caller,
/// which has the request, adds the client, server and port when it logs, so a
/// denial costs no formatting in the plugin.
pub fn deny_reason(candidates: usize) -> String {
    if candidates == 0 {
        "no authorizations apply to this server and route".to_string()
    } else {
        format!("none of the {candidates} authorizations admits the client")
    }
}

#[cfg(test)]
mod tests;
