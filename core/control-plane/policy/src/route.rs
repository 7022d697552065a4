//! HTTPRoutes as the index keeps them: which Servers each attaches to, and
//! the hosts and matches the proxy routes requests by.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use strait_api::policy::GROUP as POLICY_GROUP;
use strait_api::policy::HttpRouteSpec;
use strait_api::policy::httproute::{
    HttpMethod, HttpRouteMatch, ParentReference, PathMatch, PathMatchType,
};

/// The kind of every HTTPRoute, as routes are labelled in metrics
/// (`route_kind`) and named in targets.
pub(crate) const HTTP_ROUTE_KIND: &str = "HTTPRoute";

/// One HTTPRoute of either API group, by namespace, group and name: the
/// two groups' routes are distinct resources, even with the same name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RouteKey {
    pub(crate) namespace: String,
    /// `policy.linkerd.io` or `gateway.networking.k8s.io`.
    pub(crate) group: &'static str,
    pub(crate) name: String,
}

impl RouteKey {
    /// The key of the route `metadata` describes, in `group`.
    pub(crate) fn of(group: &'static str, metadata: &ObjectMeta) -> Self {
        RouteKey {
            namespace: metadata.namespace.clone().unwrap_or_default(),
            group,
            name: metadata.name.clone().unwrap_or_default(),
        }
    }
}

/// A parent reference that names a Server: its position in `parentRefs`
/// (for messages), the Server's namespace and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerParent {
    pub(crate) index: usize,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

/// One HTTPRoute, reduced to what attaches it and what it matches.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RouteInfo {
    /// The parent references that name a Server; others (a Service, for
    /// outbound routing) are not the inbound index's concern.
    pub(crate) servers: Vec<ServerParent>,
    /// Host names as written (`*.` prefixes a suffix); empty means any.
    pub(crate) hosts: Vec<String>,
    /// Every match of every rule; a request matching any takes the route.
    pub(crate) matches: Vec<HttpRouteMatch>,
    /// When the route was created: of two equally specific matches, the
    /// older route's wins, as the Gateway API orders them.
    pub(crate) created: Option<Time>,
}

impl RouteInfo {
    /// Reads a route of namespace `namespace`. A rule without matches,
    /// and a route without rules, match every request (a `/` prefix), as
    /// the Gateway API defaults them.
    pub(crate) fn from_spec(namespace: &str, spec: &HttpRouteSpec, created: Option<Time>) -> Self {
        let servers = spec
            .parent_refs
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(index, parent)| server_parent(namespace, index, parent))
            .collect();
        let rules = spec.rules.as_deref().unwrap_or_default();
        let mut matches: Vec<HttpRouteMatch> = Vec::new();
        if rules.is_empty() {
            matches.push(HttpRouteMatch::default());
        }
        for rule in rules {
            match rule.matches.as_deref() {
                None | Some([]) => matches.push(HttpRouteMatch::default()),
                Some(given) => matches.extend(given.iter().cloned()),
            }
        }
        RouteInfo {
            servers,
            hosts: spec.hostnames.clone().unwrap_or_default(),
            matches,
            created,
        }
    }

    /// Whether the route attaches to Server `server` of `namespace`.
    pub(crate) fn attaches_to(&self, namespace: &str, server: &str) -> bool {
        self.servers
            .iter()
            .any(|p| p.namespace == namespace && p.name == server)
    }
}

/// The Server a parent reference names, if it names one: kind `Server` in
/// `policy.linkerd.io` (the group Linkerd's HTTPRoute assumes when unset).
fn server_parent(namespace: &str, index: usize, parent: &ParentReference) -> Option<ServerParent> {
    let group = parent.group.as_deref().unwrap_or(POLICY_GROUP);
    let kind = parent.kind.as_deref()?;
    (group == POLICY_GROUP && kind.eq_ignore_ascii_case("Server")).then(|| ServerParent {
        index,
        namespace: parent
            .namespace
            .clone()
            .unwrap_or_else(|| namespace.to_string()),
        name: parent.name.clone(),
    })
}

/// The match of a probe path: `GET` on exactly that path, as Linkerd's
/// default probe route has it.
pub(crate) fn probe_match(path: &str) -> HttpRouteMatch {
    HttpRouteMatch {
        path: Some(PathMatch {
            type_: Some(PathMatchType::Exact),
            value: Some(path.to_string()),
        }),
        method: Some(HttpMethod::Get),
        ..HttpRouteMatch::default()
    }
}
