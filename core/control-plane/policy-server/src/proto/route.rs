//! An [`InboundRoute`] as the proxy reads it: an `HttpRoute` (or, for gRPC
//! servers, a `GrpcRoute`) whose `authorizations` are the route's
//! candidates, so a policy targeting an HTTPRoute reaches the proxy on that
//! route only.

use linkerd2_proxy_api::grpc_route::{GrpcRouteMatch, GrpcRpcMatch};
use linkerd2_proxy_api::http_route::{
    HeaderMatch, HostMatch, HttpRouteMatch, PathMatch, QueryParamMatch, header_match, host_match,
    path_match, query_param_match,
};
use linkerd2_proxy_api::http_types::{HttpMethod, http_method::Registered};
use linkerd2_proxy_api::inbound::{self as api, GrpcRoute, HttpRoute};
use strait_api::policy::httproute::{
    self as route, HeaderMatchType, HttpMethod as Method, PathMatchType,
};
use strait_policy::InboundRoute;

use super::{authorizations, metadata};

/// HTTP routes, one rule each holding every match of the route; a route
/// without matches takes every request (a `/` prefix).
pub(super) fn http_routes(routes: &[InboundRoute]) -> Vec<HttpRoute> {
    routes
        .iter()
        .map(|route| {
            let matches = if route.matches.is_empty() {
                vec![HttpRouteMatch {
                    path: Some(path(&route::PathMatch::default())),
                    ..HttpRouteMatch::default()
                }]
            } else {
                route.matches.iter().map(http_match).collect()
            };
            HttpRoute {
                metadata: Some(metadata(&route.reference)),
                hosts: route.hosts.iter().map(|h| host(h)).collect(),
                authorizations: authorizations(&route.authorizations),
                rules: vec![api::http_route::Rule {
                    matches,
                    filters: Vec::new(),
                }],
            }
        })
        .collect()
}

/// gRPC routes: only catch-all routes apply, since the others match plain
/// HTTP requests (kubelet's probes), which a gRPC server never receives.
pub(super) fn grpc_routes(routes: &[InboundRoute]) -> Vec<GrpcRoute> {
    routes
        .iter()
        .filter(|route| route.matches.is_empty())
        .map(|route| GrpcRoute {
            metadata: Some(metadata(&route.reference)),
            hosts: Vec::new(),
            authorizations: authorizations(&route.authorizations),
            rules: vec![api::grpc_route::Rule {
                matches: vec![GrpcRouteMatch {
                    rpc: Some(GrpcRpcMatch::default()),
                    headers: Vec::new(),
                }],
                filters: Vec::new(),
            }],
        })
        .collect()
}

/// `*.example.com` is a suffix, sent as its labels in reverse order;
/// anything else an exact host.
pub(crate) fn host(name: &str) -> HostMatch {
    let found = match name.strip_prefix("*.") {
        Some(suffix) => host_match::Match::Suffix(host_match::Suffix {
            reverse_labels: suffix.split('.').rev().map(str::to_string).collect(),
        }),
        None => host_match::Match::Exact(name.to_string()),
    };
    HostMatch {
        r#match: Some(found),
    }
}

pub(crate) fn http_match(m: &route::HttpRouteMatch) -> HttpRouteMatch {
    HttpRouteMatch {
        path: Some(path(
            m.path.as_ref().unwrap_or(&route::PathMatch::default()),
        )),
        headers: m
            .headers
            .iter()
            .flatten()
            .map(|h| HeaderMatch {
                name: h.name.clone(),
                value: Some(match h.type_.unwrap_or_default() {
                    HeaderMatchType::Exact => {
                        header_match::Value::Exact(h.value.clone().into_bytes())
                    }
                    HeaderMatchType::RegularExpression => {
                        header_match::Value::Regex(h.value.clone())
                    }
                }),
            })
            .collect(),
        query_params: m
            .query_params
            .iter()
            .flatten()
            .map(|q| QueryParamMatch {
                name: q.name.clone(),
                value: Some(match q.type_.unwrap_or_default() {
                    HeaderMatchType::Exact => query_param_match::Value::Exact(q.value.clone()),
                    HeaderMatchType::RegularExpression => {
                        query_param_match::Value::Regex(q.value.clone())
                    }
                }),
            })
            .collect(),
        method: m.method.map(method),
    }
}

/// A path match with the Gateway API's defaults: a `/` prefix.
fn path(m: &route::PathMatch) -> PathMatch {
    let value = m.value.clone().unwrap_or_else(|| "/".to_string());
    let kind = match m.type_.unwrap_or_default() {
        PathMatchType::Exact => path_match::Kind::Exact(value),
        PathMatchType::PathPrefix => path_match::Kind::Prefix(value),
        PathMatchType::RegularExpression => path_match::Kind::Regex(value),
    };
    PathMatch { kind: Some(kind) }
}

fn method(method: Method) -> HttpMethod {
    let registered = match method {
        Method::Get => Registered::Get,
        Method::Head => Registered::Head,
        Method::Post => Registered::Post,
        Method::Put => Registered::Put,
        Method::Delete => Registered::Delete,
        Method::Connect => Registered::Connect,
        Method::Options => Registered::Options,
        Method::Trace => Registered::Trace,
        Method::Patch => Registered::Patch,
    };
    HttpMethod {
        r#type: Some(
            linkerd2_proxy_api::http_types::http_method::Type::Registered(registered.into()),
        ),
    }
}
