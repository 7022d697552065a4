//! HTTPRoutes whose parent is a Service, reduced to what outbound policy
//! needs: which Service ports they attach to, their matches and their
//! backends.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Deserialize;
use strait_api::policy::HttpRouteSpec;
use strait_api::policy::httproute::{HttpRouteMatch, ParentReference};

use super::ServiceRef;

/// The weight of a backendRef that gives none, as the Gateway API has it.
const DEFAULT_WEIGHT: u32 = 1;

/// A parent reference that names a Service, and the port it limits the
/// route to, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ServiceParent {
    pub(super) service: ServiceRef,
    pub(super) port: Option<u16>,
}

/// One route attached to at least one Service.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ServiceRoute {
    pub(super) parents: Vec<ServiceParent>,
    pub(super) hosts: Vec<String>,
    pub(super) rules: Vec<RuleSpec>,
    /// Routes are ordered oldest first, as Linkerd orders them.
    pub(super) created: Option<Time>,
}

/// One rule as written, its backends not yet checked for existence.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RuleSpec {
    pub(super) matches: Vec<HttpRouteMatch>,
    pub(super) backends: Vec<BackendSpec>,
}

/// One backendRef as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum BackendSpec {
    /// A Service port; whether the Service exists is decided per answer,
    /// since it may appear after the route.
    Service {
        service: ServiceRef,
        port: u16,
        weight: u32,
    },
    /// A reference no proxy can follow, with the reason requests to it
    /// fail.
    Invalid { weight: u32, message: String },
}

/// The fields of a Gateway API `HTTPBackendRef` outbound policy reads;
/// the rest (filters) are not applied.
#[derive(Deserialize)]
struct BackendRef {
    group: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    port: Option<i64>,
    weight: Option<i64>,
}

impl ServiceRoute {
    /// Reads a route of `namespace`. A route without rules, and a rule
    /// without matches, take every request (a `/` prefix), as the Gateway
    /// API defaults them.
    pub(super) fn from_spec(namespace: &str, spec: &HttpRouteSpec, created: Option<Time>) -> Self {
        let parents = spec
            .parent_refs
            .iter()
            .flatten()
            .filter_map(|parent| service_parent(namespace, parent))
            .collect();
        let mut rules: Vec<RuleSpec> = spec
            .rules
            .iter()
            .flatten()
            .map(|rule| RuleSpec {
                matches: match rule.matches.as_deref() {
                    None | Some([]) => vec![HttpRouteMatch::default()],
                    Some(given) => given.to_vec(),
                },
                backends: rule
                    .backend_refs
                    .iter()
                    .flatten()
                    .map(|b| backend(namespace, b))
                    .collect(),
            })
            .collect();
        if rules.is_empty() {
            rules.push(RuleSpec {
                matches: vec![HttpRouteMatch::default()],
                backends: Vec::new(),
            });
        }
        ServiceRoute {
            parents,
            hosts: spec.hostnames.clone().unwrap_or_default(),
            rules,
            created,
        }
    }

    /// Whether the route attaches to `port` of `service`: a parent naming
    /// the Service without a port attaches to all of them.
    pub(super) fn attaches_to(&self, service: &ServiceRef, port: u16) -> bool {
        self.parents
            .iter()
            .any(|p| p.service == *service && p.port.is_none_or(|p| p == port))
    }
}

/// Whether a group names the core API: unset, empty or `core`.
fn is_core(group: Option<&str>) -> bool {
    group.is_none_or(|g| g.is_empty() || g.eq_ignore_ascii_case("core"))
}

/// The Service a parent reference names, if it names one (kind `Service`
/// in the core group; a parent without a kind is no Service).
fn service_parent(namespace: &str, parent: &ParentReference) -> Option<ServiceParent> {
    let kind = parent.kind.as_deref()?;
    (is_core(parent.group.as_deref()) && kind.eq_ignore_ascii_case("Service")).then(|| {
        ServiceParent {
            service: ServiceRef {
                namespace: parent
                    .namespace
                    .clone()
                    .unwrap_or_else(|| namespace.to_string()),
                name: parent.name.clone(),
            },
            port: parent.port.filter(|p| *p != 0),
        }
    })
}

/// Reads one backendRef of a route in `namespace`; what cannot be followed
/// becomes an invalid backend that says why, so the rule's other backends
/// keep their share.
fn backend(namespace: &str, value: &serde_json::Value) -> BackendSpec {
    let given = match BackendRef::deserialize(value) {
        Ok(given) => given,
        Err(e) => {
            return BackendSpec::Invalid {
                weight: DEFAULT_WEIGHT,
                message: format!("unreadable backendRef: {e}"),
            };
        }
    };
    let weight = match given.weight {
        None => DEFAULT_WEIGHT,
        Some(w) => match u32::try_from(w) {
            Ok(w) => w,
            Err(_) => {
                return BackendSpec::Invalid {
                    weight: 0,
                    message: format!("backendRef field \"weight\": {w} is negative"),
                };
            }
        },
    };
    let invalid = |message: String| BackendSpec::Invalid { weight, message };
    let kind = given.kind.as_deref().unwrap_or("Service");
    if !is_core(given.group.as_deref()) || !kind.eq_ignore_ascii_case("Service") {
        return invalid(format!(
            "unsupported backend type {} {kind}",
            given.group.as_deref().unwrap_or("core")
        ));
    }
    let Some(name) = given.name.filter(|n| !n.is_empty()) else {
        return invalid("backendRef field \"name\" is missing".to_string());
    };
    let Some(port) = given
        .port
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
    else {
        return invalid(format!("missing port for backend Service {name}"));
    };
    BackendSpec::Service {
        service: ServiceRef {
            namespace: given.namespace.unwrap_or_else(|| namespace.to_string()),
            name,
        },
        port,
        weight,
    }
}
