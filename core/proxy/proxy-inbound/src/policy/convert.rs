//! Decoding the control plane's `io.linkerd.proxy.inbound.Server` into a
//! [`PortPolicy`]: the exact reverse of how the policy server encodes its
//! index, so the candidates the plugin sees are the ones the index computed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use linkerd2_proxy_api::grpc_route::GrpcRouteMatch;
use linkerd2_proxy_api::http_route::{
    self as proto_route, HttpRouteMatch, header_match, host_match, path_match, query_param_match,
};
use linkerd2_proxy_api::inbound::authn::Permit;
use linkerd2_proxy_api::inbound::authn::permit_mesh_tls::Clients;
use linkerd2_proxy_api::inbound::proxy_protocol::Kind;
use linkerd2_proxy_api::inbound::{self as api, Authz};
use linkerd2_proxy_api::meta::{Metadata, metadata};
use linkerd2_proxy_api::net::IpNetwork;
use strait_decisions::authz::{Authentication, Authorization, CandidateSet, Protocol, ResourceRef};
use strait_decisions::identity::IdentityMatch;
use strait_decisions::net::{Cidr, Network};
use tracing::warn;

use super::{
    HeaderMatch, HeaderValueMatch, HostMatch, PathMatch, PortPolicy, QueryParamMatch, Route,
    RouteMatch,
};

/// Kind of built-in servers, routes and authorizations.
const DEFAULT_KIND: &str = "default";

/// The policy a `Server` message describes. Parts that cannot be read are
/// left out in the direction that admits less: an authorization with an
/// unreadable authentication is dropped, a route match with an invalid
/// expression never matches. A message without a protocol is treated as
/// protocol detection, as Linkerd's proxy does.
pub fn port_policy(server: &api::Server) -> PortPolicy {
    let reference = from_labels(&server.labels);
    let server_authorizations = candidates(&server.authorizations);
    let http_route = |proto: &api::HttpRoute| http_route(proto, &server_authorizations);
    let grpc_route = |proto: &api::GrpcRoute| grpc_route(proto, &server_authorizations);
    let kind = server.protocol.as_ref().and_then(|p| p.kind.as_ref());
    let (protocol, http_routes, detect_timeout) = match kind {
        None => (Protocol::Unknown, Vec::new(), None),
        Some(Kind::Detect(detect)) => (
            Protocol::Unknown,
            detect.http_routes.iter().filter_map(http_route).collect(),
            detect
                .timeout
                .and_then(|t| Duration::try_from(t).ok())
                .filter(|t| !t.is_zero()),
        ),
        Some(Kind::Http1(http1)) => (
            Protocol::Http1,
            http1.routes.iter().filter_map(http_route).collect(),
            None,
        ),
        Some(Kind::Http2(http2)) => (
            Protocol::Http2,
            http2.routes.iter().filter_map(http_route).collect(),
            None,
        ),
        Some(Kind::Grpc(grpc)) => (
            Protocol::Grpc,
            grpc.routes.iter().filter_map(grpc_route).collect(),
            None,
        ),
        Some(Kind::Opaque(_)) => (Protocol::Opaque, Vec::new(), None),
        Some(Kind::Tls(_)) => (Protocol::Tls, Vec::new(), None),
    };
    PortPolicy {
        server: reference,
        protocol,
        server_authorizations,
        http_routes,
        detect_timeout,
    }
}

/// `group`/`kind`/`name` labels, as the policy server always sets them.
fn from_labels(labels: &HashMap<String, String>) -> ResourceRef {
    let get = |key: &str| labels.get(key).map(String::as_str).unwrap_or_default();
    ResourceRef::new(get("group"), get("kind"), get("name"))
}

/// `Metadata::Default(name)` is a built-in (`default` kind, no group);
/// a resource keeps its group, kind and name.
fn from_metadata(meta: &Metadata) -> Option<ResourceRef> {
    match meta.kind.as_ref()? {
        metadata::Kind::Default(name) => Some(ResourceRef::new("", DEFAULT_KIND, name.as_str())),
        metadata::Kind::Resource(r) => Some(ResourceRef::new(
            r.group.as_str(),
            r.kind.as_str(),
            r.name.as_str(),
        )),
    }
}

fn candidates(authzs: &[Authz]) -> CandidateSet {
    CandidateSet::new(authzs.iter().filter_map(authorization).collect())
}

fn authorization(authz: &Authz) -> Option<Authorization> {
    let reference = authz
        .metadata
        .as_ref()
        .and_then(from_metadata)
        .unwrap_or_else(|| from_labels(&authz.labels));
    let Some(authentication) = authz.authentication.as_ref().and_then(authentication) else {
        warn!(authz = %reference, "dropping an authorization without a readable authentication");
        return None;
    };
    let networks = authz.networks.iter().filter_map(network).collect();
    Some(Authorization {
        reference,
        networks,
        authentication,
    })
}

fn authentication(authn: &api::Authn) -> Option<Authentication> {
    match authn.permit.as_ref()? {
        Permit::Unauthenticated(_) => Some(Authentication::Unauthenticated),
        Permit::MeshTls(mesh) => match mesh.clients.as_ref()? {
            Clients::Unauthenticated(_) => Some(Authentication::TlsUnauthenticated),
            Clients::Identities(ids) => Some(Authentication::TlsAuthenticated(IdentityMatch {
                identities: ids.identities.iter().map(|i| i.name.clone()).collect(),
                suffixes: ids.suffixes.iter().map(|s| s.parts.join(".")).collect(),
            })),
        },
    }
}

/// A network whose address cannot be read is dropped (admitting no one
/// through it); an unreadable exception drops the whole network, since
/// ignoring it would admit clients the policy excludes.
fn network(network: &api::Network) -> Option<Network> {
    let address = network.net.as_ref().and_then(cidr)?;
    let except = network
        .except
        .iter()
        .map(cidr)
        .collect::<Option<Vec<_>>>()?;
    Some(Network {
        cidr: address,
        except,
    })
}

fn cidr(net: &IpNetwork) -> Option<Cidr> {
    let address = IpAddr::try_from(net.ip?).ok()?;
    let prefix_len = u8::try_from(net.prefix_len).ok()?;
    Cidr::new(address, prefix_len).ok()
}

fn route_reference(meta: Option<&Metadata>) -> ResourceRef {
    meta.and_then(from_metadata)
        .unwrap_or_else(|| ResourceRef::new("", DEFAULT_KIND, "default"))
}

/// A route's candidates: its own authorizations, then those of the server
/// it does not list already. Linkerd's controller sends a route its own
/// only, and its proxy adds the server's; strait's sends the server's
/// within the route's too (which proxies reading the route alone need), and
/// they are not asked twice.
fn route_candidates(own: &[Authz], server: &[Authorization]) -> CandidateSet {
    let mut all: Vec<Authorization> = own.iter().filter_map(authorization).collect();
    for authz in server {
        if !all.contains(authz) {
            all.push(authz.clone());
        }
    }
    CandidateSet::new(all)
}

/// The parts of a route message every kind has.
struct RouteParts<'a> {
    reference: ResourceRef,
    hosts: &'a [proto_route::HostMatch],
    authorizations: &'a [Authz],
}

/// Builds a route from its matches; a route whose every match is unreadable
/// is dropped rather than left matching everything.
fn route(
    parts: RouteParts<'_>,
    server: &[Authorization],
    given: usize,
    matches: Vec<RouteMatch>,
) -> Option<Route> {
    let RouteParts {
        reference,
        hosts,
        authorizations,
    } = parts;
    if given > 0 && matches.is_empty() {
        warn!(route = %reference, "dropping a route whose matches are all unreadable");
        return None;
    }
    Some(Route {
        reference,
        hosts: hosts.iter().filter_map(host).collect(),
        matches,
        authorizations: route_candidates(authorizations, server),
    })
}

fn http_route(proto: &api::HttpRoute, server: &[Authorization]) -> Option<Route> {
    let reference = route_reference(proto.metadata.as_ref());
    let given: Vec<&HttpRouteMatch> = proto.rules.iter().flat_map(|r| &r.matches).collect();
    // A rule without matches matches everything.
    let catch_all = proto.rules.iter().any(|r| r.matches.is_empty());
    let mut matches: Vec<RouteMatch> = given.iter().filter_map(|m| http_match(m)).collect();
    if catch_all && !given.is_empty() {
        matches.push(RouteMatch::default());
    }
    let parts = RouteParts {
        reference,
        hosts: &proto.hosts,
        authorizations: &proto.authorizations,
    };
    route(parts, server, given.len(), matches)
}

fn grpc_route(proto: &api::GrpcRoute, server: &[Authorization]) -> Option<Route> {
    let reference = route_reference(proto.metadata.as_ref());
    let given: Vec<&GrpcRouteMatch> = proto.rules.iter().flat_map(|r| &r.matches).collect();
    let catch_all = proto.rules.iter().any(|r| r.matches.is_empty());
    let mut matches: Vec<RouteMatch> = given.iter().filter_map(|m| grpc_match(m)).collect();
    if catch_all && !given.is_empty() {
        matches.push(RouteMatch::default());
    }
    let parts = RouteParts {
        reference,
        hosts: &proto.hosts,
        authorizations: &proto.authorizations,
    };
    route(parts, server, given.len(), matches)
}

fn host(proto: &proto_route::HostMatch) -> Option<HostMatch> {
    match proto.r#match.as_ref()? {
        host_match::Match::Exact(name) => Some(HostMatch::Exact(name.to_ascii_lowercase())),
        host_match::Match::Suffix(suffix) => {
            let mut labels = suffix.reverse_labels.clone();
            labels.reverse();
            Some(HostMatch::Suffix(labels.join(".").to_ascii_lowercase()))
        }
    }
}

/// A whole-string expression, as Gateway API's regular expressions are.
fn anchored(expression: &str) -> Option<regex::Regex> {
    match regex::Regex::new(&format!("^(?:{expression})$")) {
        Ok(re) => Some(re),
        Err(e) => {
            warn!(%expression, error = %e, "ignoring a route match with an invalid expression");
            None
        }
    }
}

fn value_match(exact: Option<Vec<u8>>, regex: Option<&str>) -> Option<HeaderValueMatch> {
    match (exact, regex) {
        (Some(bytes), _) => Some(HeaderValueMatch::Exact(bytes)),
        (None, Some(expression)) => anchored(expression).map(HeaderValueMatch::Regex),
        (None, None) => None,
    }
}

fn header(proto: &proto_route::HeaderMatch) -> Option<HeaderMatch> {
    let name = http::HeaderName::from_bytes(proto.name.as_bytes()).ok()?;
    let value = match proto.value.as_ref()? {
        header_match::Value::Exact(bytes) => value_match(Some(bytes.clone()), None),
        header_match::Value::Regex(expression) => value_match(None, Some(expression)),
    }?;
    Some(HeaderMatch { name, value })
}

fn query_param(proto: &proto_route::QueryParamMatch) -> Option<QueryParamMatch> {
    let value = match proto.value.as_ref()? {
        query_param_match::Value::Exact(text) => value_match(Some(text.clone().into_bytes()), None),
        query_param_match::Value::Regex(expression) => value_match(None, Some(expression)),
    }?;
    Some(QueryParamMatch {
        name: proto.name.clone(),
        value,
    })
}

/// `None` when any part cannot be read: the match then never applies.
fn http_match(proto: &HttpRouteMatch) -> Option<RouteMatch> {
    let path = match proto.path.as_ref().and_then(|p| p.kind.as_ref()) {
        None => None,
        Some(path_match::Kind::Exact(p)) => Some(PathMatch::Exact(p.clone())),
        Some(path_match::Kind::Prefix(p)) => Some(PathMatch::Prefix(p.clone())),
        Some(path_match::Kind::Regex(expression)) => Some(PathMatch::Regex(anchored(expression)?)),
    };
    let method = match proto.method.clone() {
        None => None,
        Some(method) => Some(http::Method::try_from(method).ok()?),
    };
    let headers = proto
        .headers
        .iter()
        .map(header)
        .collect::<Option<Vec<_>>>()?;
    let query_params = proto
        .query_params
        .iter()
        .map(query_param)
        .collect::<Option<Vec<_>>>()?;
    Some(RouteMatch {
        path,
        headers,
        query_params,
        method,
    })
}

/// gRPC calls are `POST /<service>/<method>`; an empty service or method
/// matches any.
fn grpc_match(proto: &GrpcRouteMatch) -> Option<RouteMatch> {
    let path = match proto.rpc.as_ref() {
        None => None,
        Some(rpc) => match (rpc.service.as_str(), rpc.method.as_str()) {
            ("", "") => None,
            (service, "") => Some(PathMatch::Prefix(format!("/{service}"))),
            ("", method) => Some(PathMatch::Regex(anchored(&format!(
                "/[^/]+/{}",
                regex::escape(method)
            ))?)),
            (service, method) => Some(PathMatch::Exact(format!("/{service}/{method}"))),
        },
    };
    let headers = proto
        .headers
        .iter()
        .map(header)
        .collect::<Option<Vec<_>>>()?;
    Some(RouteMatch {
        path,
        headers,
        query_params: Vec::new(),
        method: None,
    })
}
