//! The index's [`OutboundPolicy`] in the shape Linkerd's proxy reads: the
//! `io.linkerd.proxy.outbound.OutboundPolicy` message, with the defaults
//! Linkerd's controller sends (detect timeout, queue, load estimator), since
//! the proxy refuses a policy without them.

use std::time::Duration;

use linkerd2_proxy_api::http_route::{HttpFailureInjector, HttpRouteMatch, PathMatch, path_match};
use linkerd2_proxy_api::meta::{Metadata, Resource, metadata};
use linkerd2_proxy_api::outbound::backend::{self, BalanceP2c, EndpointDiscovery, balance_p2c};
use linkerd2_proxy_api::outbound::{
    self as api, Backend, HttpRoute, OpaqueRoute, ProxyProtocol, Queue, http_route, opaque_route,
    proxy_protocol,
};
use strait_policy::{OutboundPolicy, OutboundRoute, RouteBackend, ServiceRef};

use crate::proto::DETECT_TIMEOUT;
use crate::proto::route::{host, http_match};

/// How many requests wait for a backend to become ready: Linkerd's.
pub const QUEUE_CAPACITY: u32 = 100;

/// How long a request waits for a ready endpoint before failing fast:
/// Linkerd's.
pub const QUEUE_FAILFAST: Duration = Duration::from_secs(3);

/// The round-trip time the balancer assumes of an endpoint it has not
/// measured yet: Linkerd's.
pub const BALANCER_DEFAULT_RTT: Duration = Duration::from_millis(30);

/// How fast the balancer forgets old latencies: Linkerd's.
pub const BALANCER_RTT_DECAY: Duration = Duration::from_secs(10);

/// The kind of the routes Linkerd's proxy labels metrics by.
const HTTP_ROUTE_KIND: &str = "HTTPRoute";

/// The proto `OutboundPolicy` for one Service port's policy.
pub fn to_outbound_policy(policy: &OutboundPolicy) -> api::OutboundPolicy {
    let backend = service_backend(&policy.service, policy.port, &policy.authority);
    let opaque = proxy_protocol::Opaque {
        routes: vec![default_opaque_route(backend.clone())],
    };
    let kind = if policy.opaque {
        proxy_protocol::Kind::Opaque(opaque)
    } else {
        let routes: Vec<HttpRoute> = if policy.routes.is_empty() {
            vec![default_http_route(backend)]
        } else {
            policy
                .routes
                .iter()
                .map(|route| http_route(route, &backend))
                .collect()
        };
        proxy_protocol::Kind::Detect(proxy_protocol::Detect {
            timeout: DETECT_TIMEOUT.try_into().ok(),
            opaque: Some(opaque),
            http1: Some(proxy_protocol::Http1 {
                routes: routes.clone(),
                failure_accrual: None,
            }),
            http2: Some(proxy_protocol::Http2 {
                routes,
                failure_accrual: None,
            }),
        })
    };
    api::OutboundPolicy {
        metadata: Some(service_metadata(&policy.service, policy.port)),
        protocol: Some(ProxyProtocol { kind: Some(kind) }),
    }
}

/// A Service port as the proxy names parents and backends.
fn service_metadata(service: &ServiceRef, port: u16) -> Metadata {
    Metadata {
        kind: Some(metadata::Kind::Resource(Resource {
            group: "core".to_string(),
            kind: "Service".to_string(),
            name: service.name.clone(),
            namespace: service.namespace.clone(),
            section: String::new(),
            port: u32::from(port),
        })),
    }
}

fn default_metadata(name: &str) -> Metadata {
    Metadata {
        kind: Some(metadata::Kind::Default(name.to_string())),
    }
}

fn queue() -> Queue {
    Queue {
        capacity: QUEUE_CAPACITY,
        failfast_timeout: QUEUE_FAILFAST.try_into().ok(),
    }
}

/// A balancer over the endpoints the destination service gives for
/// `authority`.
fn service_backend(service: &ServiceRef, port: u16, authority: &str) -> Backend {
    Backend {
        metadata: Some(service_metadata(service, port)),
        queue: Some(queue()),
        kind: Some(backend::Kind::Balancer(BalanceP2c {
            discovery: Some(EndpointDiscovery {
                kind: Some(backend::endpoint_discovery::Kind::Dst(
                    backend::endpoint_discovery::DestinationGet {
                        path: authority.to_string(),
                    },
                )),
            }),
            load: Some(balance_p2c::Load::PeakEwma(balance_p2c::PeakEwma {
                default_rtt: BALANCER_DEFAULT_RTT.try_into().ok(),
                decay: BALANCER_RTT_DECAY.try_into().ok(),
            })),
        })),
    }
}

/// Every connection to the Service's own endpoints.
fn default_opaque_route(backend: Backend) -> OpaqueRoute {
    OpaqueRoute {
        metadata: Some(default_metadata("opaq")),
        rules: vec![opaque_route::Rule {
            backends: Some(opaque_route::Distribution {
                kind: Some(opaque_route::distribution::Kind::FirstAvailable(
                    opaque_route::distribution::FirstAvailable {
                        backends: vec![opaque_route::RouteBackend {
                            backend: Some(backend),
                            filters: Vec::new(),
                        }],
                    },
                )),
            }),
            filters: Vec::new(),
        }],
    }
}

fn first_available(backend: Backend) -> http_route::Distribution {
    http_route::Distribution {
        kind: Some(http_route::distribution::Kind::FirstAvailable(
            http_route::distribution::FirstAvailable {
                backends: vec![http_route::RouteBackend {
                    backend: Some(backend),
                    ..http_route::RouteBackend::default()
                }],
            },
        )),
    }
}

/// Every request to the Service's own endpoints, when no HTTPRoute
/// applies.
fn default_http_route(backend: Backend) -> HttpRoute {
    HttpRoute {
        metadata: Some(default_metadata("http")),
        hosts: Vec::new(),
        rules: vec![http_route::Rule {
            matches: vec![HttpRouteMatch {
                path: Some(PathMatch {
                    kind: Some(path_match::Kind::Prefix("/".to_string())),
                }),
                ..HttpRouteMatch::default()
            }],
            backends: Some(first_available(backend)),
            ..http_route::Rule::default()
        }],
    }
}

/// An HTTPRoute: a rule without backendRefs sends to the parent Service
/// (`default`), one with backendRefs splits requests by weight among them.
fn http_route(route: &OutboundRoute, default: &Backend) -> HttpRoute {
    let rules = route
        .rules
        .iter()
        .map(|rule| {
            let backends = if rule.backends.is_empty() {
                first_available(default.clone())
            } else {
                http_route::Distribution {
                    kind: Some(http_route::distribution::Kind::RandomAvailable(
                        http_route::distribution::RandomAvailable {
                            backends: rule.backends.iter().map(route_backend).collect(),
                        },
                    )),
                }
            };
            http_route::Rule {
                matches: rule.matches.iter().map(http_match).collect(),
                backends: Some(backends),
                ..http_route::Rule::default()
            }
        })
        .collect();
    HttpRoute {
        metadata: Some(Metadata {
            kind: Some(metadata::Kind::Resource(Resource {
                group: route.reference.group.to_string(),
                kind: HTTP_ROUTE_KIND.to_string(),
                name: route.reference.name.clone(),
                namespace: route.reference.namespace.clone(),
                ..Resource::default()
            })),
        }),
        hosts: route.hosts.iter().map(|h| host(h)).collect(),
        rules,
    }
}

/// A backendRef: a Service balancer, or a backend with no dispatcher whose
/// requests fail with 500 and the reason, as Linkerd sends them.
fn route_backend(backend: &RouteBackend) -> http_route::WeightedRouteBackend {
    match backend {
        RouteBackend::Service {
            service,
            port,
            weight,
            authority,
        } => http_route::WeightedRouteBackend {
            weight: *weight,
            backend: Some(http_route::RouteBackend {
                backend: Some(service_backend(service, *port, authority)),
                ..http_route::RouteBackend::default()
            }),
        },
        RouteBackend::Invalid { weight, message } => http_route::WeightedRouteBackend {
            weight: *weight,
            backend: Some(http_route::RouteBackend {
                backend: Some(Backend {
                    metadata: Some(default_metadata("invalid")),
                    queue: Some(queue()),
                    kind: None,
                }),
                filters: vec![http_route::Filter {
                    kind: Some(http_route::filter::Kind::FailureInjector(
                        HttpFailureInjector {
                            status: 500,
                            message: message.clone(),
                            ratio: None,
                        },
                    )),
                }],
                ..http_route::RouteBackend::default()
            }),
        },
    }
}

#[cfg(test)]
mod tests;
