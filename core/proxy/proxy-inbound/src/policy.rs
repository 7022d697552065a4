//! The inbound policy of one port, as the proxy enforces it, and the watcher
//! that keeps it current from the control plane.

mod convert;
pub(crate) mod matching;
mod watcher;

use std::fmt;
use std::time::Duration;

use strait_decisions::authz::{CandidateSet, Protocol, ResourceRef};

pub use convert::port_policy;
pub use watcher::{DEFAULT_MAX_PORTS, PolicyWatcher, WatcherConfig};

/// The policy of one server port: who may connect, which routes exist and
/// who may use each. Built from the control plane's `Server` message; the
/// candidate sets are the ones the policy index computed, in its order, so
/// the authz plugin decides exactly as the index would.
#[derive(Clone, Debug)]
pub struct PortPolicy {
    /// The Server, or default server, selecting the port (`srv_*` labels).
    pub server: ResourceRef,
    /// The declared protocol; [`Protocol::Unknown`] means detect.
    pub protocol: Protocol,
    /// Authorizations of the server, used for connection-level decisions.
    pub server_authorizations: CandidateSet,
    /// HTTP (or gRPC) routes; a request matching none is answered 404.
    pub http_routes: Vec<Route>,
    /// How long to wait for a client's first bytes when detecting, if the
    /// control plane said.
    pub detect_timeout: Option<Duration>,
}

impl PortPolicy {
    /// A policy that admits nothing, for tests and for callers that must
    /// hold a policy before the first one arrives.
    pub fn deny_all(server: ResourceRef, protocol: Protocol) -> Self {
        PortPolicy {
            server,
            protocol,
            server_authorizations: CandidateSet::new(Vec::new()),
            http_routes: Vec::new(),
            detect_timeout: None,
        }
    }
}

/// One HTTP route of a port, with its own authorizations.
#[derive(Clone, Debug)]
pub struct Route {
    /// The route (`route_*` labels), e.g. `default/default`, `default/probe`
    /// or an `HTTPRoute`.
    pub reference: ResourceRef,
    /// Hostnames the route applies to; empty means any.
    pub hosts: Vec<HostMatch>,
    /// The route matches a request if any of these does; empty matches
    /// every request.
    pub matches: Vec<RouteMatch>,
    /// Authorizations of requests on this route.
    pub authorizations: CandidateSet,
}

/// One of a route's matches, as Linkerd's `HttpRouteMatch`: every part
/// given must match.
#[derive(Clone, Debug, Default)]
pub struct RouteMatch {
    /// The path, if constrained.
    pub path: Option<PathMatch>,
    /// Headers that must all match.
    pub headers: Vec<HeaderMatch>,
    /// Query parameters that must all match.
    pub query_params: Vec<QueryParamMatch>,
    /// The method, if constrained.
    pub method: Option<http::Method>,
}

/// How a path is matched.
#[derive(Clone)]
pub enum PathMatch {
    /// The whole path equals this.
    Exact(String),
    /// The path starts with this, on a segment boundary (`/foo` matches
    /// `/foo` and `/foo/bar`, not `/foobar`).
    Prefix(String),
    /// The whole path matches this expression.
    Regex(regex::Regex),
}

impl fmt::Debug for PathMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathMatch::Exact(p) => write!(f, "Exact({p:?})"),
            PathMatch::Prefix(p) => write!(f, "Prefix({p:?})"),
            PathMatch::Regex(r) => write!(f, "Regex({:?})", r.as_str()),
        }
    }
}

/// A header that must be present with a matching value.
#[derive(Clone, Debug)]
pub struct HeaderMatch {
    /// Header name (compared case-insensitively).
    pub name: http::HeaderName,
    /// How its value is matched.
    pub value: HeaderValueMatch,
}

/// How a header or query value is matched.
#[derive(Clone)]
pub enum HeaderValueMatch {
    /// Byte-for-byte equality.
    Exact(Vec<u8>),
    /// The whole value matches this expression.
    Regex(regex::Regex),
}

impl fmt::Debug for HeaderValueMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderValueMatch::Exact(v) => write!(f, "Exact({:?})", String::from_utf8_lossy(v)),
            HeaderValueMatch::Regex(r) => write!(f, "Regex({:?})", r.as_str()),
        }
    }
}

/// A query parameter that must be present with a matching value.
#[derive(Clone, Debug)]
pub struct QueryParamMatch {
    /// Parameter name.
    pub name: String,
    /// How its value is matched.
    pub value: HeaderValueMatch,
}

/// A hostname a route applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostMatch {
    /// Exactly this host (lower case).
    Exact(String),
    /// Any host ending in `.<suffix>` (the suffix in lower case).
    Suffix(String),
}

/// Why no policy is available for a port. The caller must refuse the
/// traffic: the proxy never forwards without a policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The control plane sent no policy within the timeout.
    #[error("no inbound policy for port {port} within {timeout:?}")]
    Timeout {
        /// The port asked about.
        port: u16,
        /// How long the caller waited.
        timeout: Duration,
    },
    /// The watcher was asked outside a Tokio runtime, so it cannot run.
    #[error("the policy watcher needs a Tokio runtime")]
    NoRuntime,
    /// Every watch the proxy may keep is in use: the port's connection is
    /// refused rather than another stream opened.
    #[error("no inbound policy for port {port}: {max} ports are watched and in use already")]
    TooManyPorts {
        /// The port asked about.
        port: u16,
        /// [`crate::WatcherConfig::max_ports`].
        max: usize,
    },
}

#[cfg(test)]
mod tests;
