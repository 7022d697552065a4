//! The outbound side of the index: what a client proxy does with the
//! connections it opens to a Service, computed from Services and the
//! HTTPRoutes whose parent is a Service, as Linkerd's policy controller
//! computes it for `OutboundPolicies`.
//!
//! Policies are computed when asked for, from the Services and routes the
//! index holds, rather than kept per target: a proxy may ask about any
//! address, and nothing a client asks may grow the index.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use strait_api::key::{Key, key_of};
use strait_api::policy::HttpRouteSpec;
use strait_api::policy::httproute::HttpRouteMatch;

use crate::config::IndexConfig;
use crate::route::RouteKey;

mod authority;
mod route;
mod service;

pub use authority::service_authority;

use route::{BackendSpec, ServiceRoute};
use service::ServiceInfo;

/// A Service, by namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceRef {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
}

/// What a client proxy asks about: the original destination of a
/// connection, or the authority of a request it routes by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboundTarget<'a> {
    /// An address: a Service's cluster IP and one of its ports.
    Addr(SocketAddr),
    /// `<svc>.<ns>.svc.<cluster domain>[:<port>]`; port 80 when absent.
    Authority(&'a str),
}

/// The outbound policy of one Service port, ready to be written as
/// Linkerd's `OutboundPolicy`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundPolicy {
    /// The Service the target resolved to.
    pub service: ServiceRef,
    /// The Service port.
    pub port: u16,
    /// The name the destination service resolves the Service's endpoints
    /// by (`<svc>.<ns>.svc.<cluster domain>:<port>`): the default backend.
    /// A mirror and a federated Service are named like any other: the
    /// destination service knows where their endpoints are.
    pub authority: String,
    /// The port is opaque: connections are forwarded without detecting
    /// HTTP, and routes do not apply.
    pub opaque: bool,
    /// The HTTPRoutes that apply to this port for this client, oldest
    /// first (then by name), as Linkerd orders them; none means the
    /// default route to the default backend.
    pub routes: Vec<OutboundRoute>,
}

/// An HTTPRoute of either group, by group, namespace and name, as the
/// proxy labels route metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRef {
    /// `policy.linkerd.io` or `gateway.networking.k8s.io`.
    pub group: &'static str,
    /// The route's namespace.
    pub namespace: String,
    /// The route's name.
    pub name: String,
}

/// One HTTPRoute attached to the Service.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundRoute {
    /// Which route this is.
    pub reference: RouteRef,
    /// Host names as written (`*.` prefixes a suffix); empty means any.
    pub hosts: Vec<String>,
    /// The rules, in the route's order.
    pub rules: Vec<OutboundRule>,
}

/// One rule of a route: which requests, and where they go.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundRule {
    /// Request shapes, any of which selects the rule; a rule written
    /// without matches has the Gateway API's default, a `/` prefix.
    pub matches: Vec<HttpRouteMatch>,
    /// Where matching requests go, split by weight; empty means the
    /// parent Service itself (the policy's default backend).
    pub backends: Vec<RouteBackend>,
}

/// One `backendRef` of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteBackend {
    /// A Service that exists.
    Service {
        /// The Service.
        service: ServiceRef,
        /// The port asked for.
        port: u16,
        /// Its share of the rule's requests.
        weight: u32,
        /// The name the destination service resolves it by.
        authority: String,
    },
    /// A reference that cannot be followed (a Service that does not exist,
    /// a kind other than Service, no port): requests given to it fail
    /// with 500 and this message, as Linkerd answers them.
    Invalid {
        /// Its share of the rule's requests.
        weight: u32,
        /// Why, as the client's error says.
        message: String,
    },
}

/// Why a target has no outbound policy. [`OutboundError::is_not_found`]
/// tells the targets that are simply not Services (the proxy then
/// forwards to the original destination) from malformed ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// No Service has this cluster IP.
    #[error("no Service has the cluster IP {0}")]
    NoServiceAt(IpAddr),
    /// The authority names a Service that does not exist.
    #[error("Service {namespace}/{name} does not exist")]
    NoService {
        /// The namespace named.
        namespace: String,
        /// The name named.
        name: String,
    },
    /// The Service exists but declares no such port.
    #[error("Service {namespace}/{name} has no port {port}")]
    NoPort {
        /// The Service's namespace.
        namespace: String,
        /// The Service's name.
        name: String,
        /// The port asked for.
        port: u16,
    },
    /// A well-formed authority that does not name a Service of this
    /// cluster (`example.com:443`, another cluster's domain).
    #[error("authority {authority:?} is not of the form <name>.<namespace>.svc.{domain}")]
    NotAServiceName {
        /// The authority as asked.
        authority: String,
        /// This cluster's domain.
        domain: String,
    },
    /// An authority that is not one at all.
    #[error("target: authority {authority:?} is malformed: {reason}")]
    MalformedAuthority {
        /// The authority as asked.
        authority: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Port 0, which no connection has.
    #[error("target: port 0 is not a TCP port")]
    ZeroPort,
}

impl OutboundError {
    /// Whether the target is well formed but names no Service port, so
    /// the answer is NotFound rather than InvalidArgument.
    pub fn is_not_found(&self) -> bool {
        !matches!(
            self,
            OutboundError::MalformedAuthority { .. } | OutboundError::ZeroPort
        )
    }
}

/// The Services and Service-parented routes of the index.
#[derive(Debug, Default)]
pub(crate) struct Outbound {
    services: BTreeMap<Key, ServiceInfo>,
    by_ip: BTreeMap<IpAddr, Key>,
    routes: BTreeMap<RouteKey, ServiceRoute>,
}

impl Outbound {
    /// Adds or updates a Service; whether anything outbound changed.
    pub(crate) fn apply_service(&mut self, service: &Service) -> bool {
        let key = key_of(&service.metadata);
        let info = ServiceInfo::from_service(service);
        if self.services.get(&key) == Some(&info) {
            return false;
        }
        self.by_ip.retain(|_, owner| *owner != key);
        for ip in &info.cluster_ips {
            self.by_ip.insert(*ip, key.clone());
        }
        self.services.insert(key, info);
        true
    }

    /// Forgets a Service; whether it was known.
    pub(crate) fn delete_service(&mut self, namespace: &str, name: &str) -> bool {
        let key = (namespace.to_string(), name.to_string());
        self.by_ip.retain(|_, owner| *owner != key);
        self.services.remove(&key).is_some()
    }

    /// Replaces every Service.
    pub(crate) fn reset_services(&mut self, services: impl IntoIterator<Item = Service>) {
        self.services.clear();
        self.by_ip.clear();
        for service in services {
            self.apply_service(&service);
        }
    }

    /// Adds or updates a route; whether it changes what any Service's
    /// clients see (a route with no Service parent, before and after,
    /// does not).
    pub(crate) fn apply_route(
        &mut self,
        key: RouteKey,
        metadata: &ObjectMeta,
        spec: &HttpRouteSpec,
    ) -> bool {
        let route =
            ServiceRoute::from_spec(&key.namespace, spec, metadata.creation_timestamp.clone());
        if route.parents.is_empty() {
            return self.routes.remove(&key).is_some();
        }
        if self.routes.get(&key) == Some(&route) {
            return false;
        }
        self.routes.insert(key, route);
        true
    }

    /// Forgets a route; whether it had a Service parent.
    pub(crate) fn delete_route(&mut self, key: &RouteKey) -> bool {
        self.routes.remove(key).is_some()
    }

    /// Replaces the routes of `group`.
    pub(crate) fn reset_routes<'a>(
        &mut self,
        group: &'static str,
        routes: impl Iterator<Item = (&'a ObjectMeta, &'a HttpRouteSpec)>,
    ) {
        self.routes.retain(|key, _| key.group != group);
        for (metadata, spec) in routes {
            self.apply_route(RouteKey::of(group, metadata), metadata, spec);
        }
    }

    /// The policy of `target` for a client in `source_namespace` (whose
    /// own routes to other namespaces' Services apply to it alone).
    pub(crate) fn policy(
        &self,
        config: &IndexConfig,
        target: OutboundTarget<'_>,
        source_namespace: &str,
    ) -> Result<OutboundPolicy, OutboundError> {
        let (key, port) = match target {
            OutboundTarget::Addr(addr) => {
                if addr.port() == 0 {
                    return Err(OutboundError::ZeroPort);
                }
                let key = self
                    .by_ip
                    .get(&addr.ip())
                    .ok_or(OutboundError::NoServiceAt(addr.ip()))?;
                (key.clone(), addr.port())
            }
            OutboundTarget::Authority(authority) => {
                let (service, port) = authority::parse(authority, &config.cluster_domain)?;
                ((service.namespace, service.name), port)
            }
        };
        let info = self
            .services
            .get(&key)
            .ok_or_else(|| OutboundError::NoService {
                namespace: key.0.clone(),
                name: key.1.clone(),
            })?;
        let service = ServiceRef {
            namespace: key.0,
            name: key.1,
        };
        if !info.ports.contains(&port) {
            return Err(OutboundError::NoPort {
                namespace: service.namespace,
                name: service.name,
                port,
            });
        }
        let opaque = info
            .opaque_ports
            .as_ref()
            .unwrap_or(&config.default_opaque_ports)
            .contains(port);
        let routes = if opaque {
            Vec::new()
        } else {
            self.routes_of(config, &service, port, source_namespace)
        };
        Ok(OutboundPolicy {
            authority: service_authority(&service, port, &config.cluster_domain),
            service,
            port,
            opaque,
            routes,
        })
    }

    /// The routes attached to `service`'s `port` that a client in
    /// `source_namespace` takes: those of the Service's own namespace
    /// (producer routes) apply to every client, those of another namespace
    /// (consumer routes) to that namespace's clients only.
    fn routes_of(
        &self,
        config: &IndexConfig,
        service: &ServiceRef,
        port: u16,
        source_namespace: &str,
    ) -> Vec<OutboundRoute> {
        let mut attached: Vec<(&RouteKey, &ServiceRoute)> = self
            .routes
            .iter()
            .filter(|(key, route)| {
                (key.namespace == service.namespace || key.namespace == source_namespace)
                    && route.attaches_to(service, port)
            })
            .collect();
        attached.sort_by(|(a_key, a), (b_key, b)| {
            oldest_first(&a.created, &b.created).then_with(|| a_key.name.cmp(&b_key.name))
        });
        attached
            .into_iter()
            .map(|(key, route)| OutboundRoute {
                reference: RouteRef {
                    group: key.group,
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                },
                hosts: route.hosts.clone(),
                rules: route
                    .rules
                    .iter()
                    .map(|rule| OutboundRule {
                        matches: rule.matches.clone(),
                        backends: rule
                            .backends
                            .iter()
                            .map(|b| self.backend(config, b))
                            .collect(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// A backend as the proxy gets it: a Service that does not exist (yet)
    /// becomes a failing backend, and a real one when it appears.
    fn backend(&self, config: &IndexConfig, spec: &BackendSpec) -> RouteBackend {
        match spec {
            BackendSpec::Service {
                service,
                port,
                weight,
            } => {
                let key = (service.namespace.clone(), service.name.clone());
                if self.services.contains_key(&key) {
                    RouteBackend::Service {
                        authority: service_authority(service, *port, &config.cluster_domain),
                        service: service.clone(),
                        port: *port,
                        weight: *weight,
                    }
                } else {
                    RouteBackend::Invalid {
                        weight: *weight,
                        message: format!("Service not found {}", service.name),
                    }
                }
            }
            BackendSpec::Invalid { weight, message } => RouteBackend::Invalid {
                weight: *weight,
                message: message.clone(),
            },
        }
    }
}

/// Routes with a creation time before those without, older first.
fn oldest_first(a: &Option<Time>, b: &Option<Time>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(a), Some(b)) => a.0.cmp(&b.0),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests;
