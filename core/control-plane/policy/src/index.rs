//! The index itself: resources in, per-port policies out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::gateway::{self, GROUP as GATEWAY_GROUP};
use strait_api::key::{Key, key_of};
use strait_api::policy::{
    AuthorizationPolicy, GROUP as POLICY_GROUP, HttpRoute, HttpRouteSpec, MeshTlsAuthentication,
    NetworkAuthentication, Server, ServerAuthorization,
};

use crate::authn::{self, Ignored, Store};
use crate::config::IndexConfig;
use crate::inbound::PortPolicy;
use crate::outbound::{Outbound, OutboundError, OutboundPolicy, OutboundTarget};
use crate::pod::PodInfo;
use crate::route::{RouteInfo, RouteKey};
use crate::server::ServerInfo;

/// One port of one pod: what a proxy asks about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortKey {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The inbound port.
    pub port: u16,
}

#[derive(Clone, Debug, Default)]
struct PodEntry {
    info: PodInfo,
    /// Ports a reader asked to track beyond the declared ones.
    requested: BTreeSet<u16>,
    ports: BTreeMap<u16, PortPolicy>,
}

/// The inbound policies of every known pod port, kept up to date as
/// resources change. Every change bumps at most one generation, and only
/// ports whose policy actually changed take it, so a watcher compares
/// generations instead of policies.
#[derive(Debug, Default)]
pub struct Index {
    config: IndexConfig,
    generation: u64,
    pods: BTreeMap<Key, PodEntry>,
    servers: BTreeMap<Key, ServerInfo>,
    /// HTTPRoutes of both groups.
    routes: BTreeMap<RouteKey, RouteInfo>,
    store: Store,
    /// Ports of deleted pods, with the generation of the deletion, so that
    /// [`Index::changed_since`] reports them too.
    removed: BTreeMap<PortKey, u64>,
    /// Services and the routes whose parent is a Service.
    outbound: Outbound,
    /// The generation of the latest change to anything outbound policies
    /// are computed from.
    outbound_generation: u64,
}

/// `apply`, `delete` and `reset` for one kind of authorization resource kept
/// in the [`Store`]; all three refresh the namespaces the change can affect.
macro_rules! store_kind {
    ($field:ident, $ty:ty, $apply:ident, $delete:ident, $reset:ident, $what:literal) => {
        #[doc = concat!("Adds or updates a ", $what, ".")]
        pub fn $apply(&mut self, resource: &$ty) {
            let key = key_of(&resource.metadata);
            if self.store.$field.get(&key) == Some(&resource.spec) {
                return;
            }
            let namespaces = self.affected_by(&key.0);
            self.store.$field.insert(key, resource.spec.clone());
            self.refresh_namespaces(&namespaces);
        }

        #[doc = concat!("Forgets a ", $what, ".")]
        pub fn $delete(&mut self, namespace: &str, name: &str) {
            let key = (namespace.to_string(), name.to_string());
            if self.store.$field.remove(&key).is_some() {
                let namespaces = self.affected_by(namespace);
                self.refresh_namespaces(&namespaces);
            }
        }

        #[doc = concat!("Replaces every ", $what, ", after a watch restarts.")]
        pub fn $reset(&mut self, resources: impl IntoIterator<Item = $ty>) {
            self.store.$field = resources
                .into_iter()
                .map(|r| (key_of(&r.metadata), r.spec))
                .collect();
            self.refresh_all();
        }
    };
}

impl Index {
    /// An empty index with these install-wide settings.
    pub fn new(config: IndexConfig) -> Self {
        Index {
            config,
            ..Index::default()
        }
    }

    /// The settings the index was built with.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// The generation of the latest change; start a watch from here.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The current policy of a tracked port: every declared container port
    /// and probe port, and ports passed to [`Index::track_port`].
    pub fn policy(&self, namespace: &str, pod: &str, port: u16) -> Option<PortPolicy> {
        let key = (namespace.to_string(), pod.to_string());
        self.pods.get(&key)?.ports.get(&port).cloned()
    }

    /// The mesh identity of a known pod: the identity of its
    /// ServiceAccount, the only one that may ask for its policies.
    pub fn workload_identity(&self, namespace: &str, pod: &str) -> Option<String> {
        let key = (namespace.to_string(), pod.to_string());
        let entry = self.pods.get(&key)?;
        Some(
            self.config
                .service_account_identity(namespace, &entry.info.service_account),
        )
    }

    /// Starts tracking a port no container declares (a proxy may be asked
    /// about any port) and returns its policy; none for an unknown pod.
    pub fn track_port(&mut self, namespace: &str, pod: &str, port: u16) -> Option<PortPolicy> {
        let key = (namespace.to_string(), pod.to_string());
        let entry = self.pods.get_mut(&key)?;
        if entry.requested.insert(port) {
            self.refresh_pod(&key);
        }
        self.policy(namespace, pod, port)
    }

    /// Ports whose policy changed, appeared or disappeared after
    /// `generation`; a port that is gone has no [`Index::policy`] any more.
    pub fn changed_since(&self, generation: u64) -> Vec<PortKey> {
        let live = self.pods.iter().flat_map(|((ns, pod), entry)| {
            entry
                .ports
                .iter()
                .filter(move |(_, p)| p.generation > generation)
                .map(move |(port, _)| PortKey {
                    namespace: ns.clone(),
                    pod: pod.clone(),
                    port: *port,
                })
        });
        let gone = self
            .removed
            .iter()
            .filter(|(_, g)| **g > generation)
            .map(|(k, _)| k.clone());
        live.chain(gone).collect()
    }

    /// Drops the record of ports removed at or before `generation`, once
    /// every watcher has seen it.
    pub fn forget_removed_until(&mut self, generation: u64) {
        self.removed.retain(|_, g| *g > generation);
    }

    /// Resources the index ignores and why (a policy whose authentication
    /// is missing, an empty MeshTLSAuthentication, ...), for status output.
    /// Servers and policies that point at nothing (a port name no selected
    /// pod declares, a target that does not exist) are listed too.
    pub fn ignored(&self) -> Vec<Ignored> {
        let mut ignored = authn::ignored(&self.store, &self.config);
        ignored.extend(unmatched::unmatched(self));
        ignored
    }

    /// Adds or updates a pod; only a change to what policy depends on
    /// (labels, annotation, ports, probes) causes work.
    pub fn apply_pod(&mut self, pod: &Pod) {
        let key = key_of(&pod.metadata);
        let info = PodInfo::from_pod(pod);
        let entry = self.pods.entry(key.clone()).or_default();
        if entry.info == info && !entry.ports.is_empty() {
            return;
        }
        entry.info = info;
        self.refresh_pod(&key);
    }

    /// Forgets a pod; its ports are reported by [`Index::changed_since`].
    pub fn delete_pod(&mut self, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        if let Some(entry) = self.pods.remove(&key) {
            self.generation += 1;
            for port in entry.ports.into_keys() {
                let port = PortKey {
                    namespace: key.0.clone(),
                    pod: key.1.clone(),
                    port,
                };
                self.removed.insert(port, self.generation);
            }
        }
    }

    /// Replaces every pod, after a watch restarts.
    pub fn reset_pods(&mut self, pods: impl IntoIterator<Item = Pod>) {
        let pods: BTreeMap<Key, Pod> = pods.into_iter().map(|p| (key_of(&p.metadata), p)).collect();
        let stale: Vec<Key> = self
            .pods
            .keys()
            .filter(|k| !pods.contains_key(*k))
            .cloned()
            .collect();
        for (ns, name) in stale {
            self.delete_pod(&ns, &name);
        }
        for pod in pods.values() {
            self.apply_pod(pod);
        }
    }

    /// Adds or updates a Server (any version, read as `v1beta3`).
    pub fn apply_server(&mut self, server: &Server) {
        let key = key_of(&server.metadata);
        let info = ServerInfo::from_server(server);
        if self.servers.get(&key) == Some(&info) {
            return;
        }
        self.servers.insert(key.clone(), info);
        self.refresh_namespaces(&BTreeSet::from([key.0]));
    }

    /// Forgets a Server.
    pub fn delete_server(&mut self, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        if self.servers.remove(&key).is_some() {
            self.refresh_namespaces(&BTreeSet::from([key.0]));
        }
    }

    /// Replaces every Server, after a watch restarts.
    pub fn reset_servers(&mut self, servers: impl IntoIterator<Item = Server>) {
        self.servers = servers
            .into_iter()
            .map(|s| (key_of(&s.metadata), ServerInfo::from_server(&s)))
            .collect();
        self.refresh_all();
    }

    /// Adds or updates an HTTPRoute of `policy.linkerd.io`.
    pub fn apply_http_route(&mut self, route: &HttpRoute) {
        self.apply_route(POLICY_GROUP, &route.metadata, &route.spec);
    }

    /// Forgets an HTTPRoute of `policy.linkerd.io`.
    pub fn delete_http_route(&mut self, namespace: &str, name: &str) {
        self.delete_route(POLICY_GROUP, namespace, name);
    }

    /// Replaces every HTTPRoute of `policy.linkerd.io`, after a watch
    /// restarts.
    pub fn reset_http_routes(&mut self, routes: impl IntoIterator<Item = HttpRoute>) {
        let routes = routes.into_iter().map(|r| (r.metadata, r.spec));
        self.reset_routes(POLICY_GROUP, routes);
    }

    /// Adds or updates an HTTPRoute of the Gateway API.
    pub fn apply_gateway_http_route(&mut self, route: &gateway::HttpRoute) {
        self.apply_route(GATEWAY_GROUP, &route.metadata, &route.spec.0);
    }

    /// Forgets an HTTPRoute of the Gateway API.
    pub fn delete_gateway_http_route(&mut self, namespace: &str, name: &str) {
        self.delete_route(GATEWAY_GROUP, namespace, name);
    }

    /// Replaces every HTTPRoute of the Gateway API, after a watch restarts.
    pub fn reset_gateway_http_routes(
        &mut self,
        routes: impl IntoIterator<Item = gateway::HttpRoute>,
    ) {
        let routes = routes.into_iter().map(|r| (r.metadata, r.spec.0));
        self.reset_routes(GATEWAY_GROUP, routes);
    }

    fn apply_route(&mut self, group: &'static str, metadata: &ObjectMeta, spec: &HttpRouteSpec) {
        let key = RouteKey::of(group, metadata);
        if self.outbound.apply_route(key.clone(), metadata, spec) {
            self.outbound_changed();
        }
        let info = RouteInfo::from_spec(&key.namespace, spec, metadata.creation_timestamp.clone());
        if self.routes.get(&key) == Some(&info) {
            return;
        }
        let namespace = key.namespace.clone();
        self.routes.insert(key, info);
        self.refresh_namespaces(&BTreeSet::from([namespace]));
    }

    fn delete_route(&mut self, group: &'static str, namespace: &str, name: &str) {
        let key = RouteKey {
            namespace: namespace.to_string(),
            group,
            name: name.to_string(),
        };
        if self.outbound.delete_route(&key) {
            self.outbound_changed();
        }
        if self.routes.remove(&key).is_some() {
            self.refresh_namespaces(&BTreeSet::from([key.namespace]));
        }
    }

    /// Replaces the routes of `group`, keeping the other group's.
    fn reset_routes(
        &mut self,
        group: &'static str,
        routes: impl Iterator<Item = (ObjectMeta, HttpRouteSpec)>,
    ) {
        let routes: Vec<(ObjectMeta, HttpRouteSpec)> = routes.collect();
        self.outbound
            .reset_routes(group, routes.iter().map(|(m, s)| (m, s)));
        self.outbound_changed();
        self.routes.retain(|key, _| key.group != group);
        for (metadata, spec) in routes {
            let key = RouteKey::of(group, &metadata);
            let info = RouteInfo::from_spec(&key.namespace, &spec, metadata.creation_timestamp);
            self.routes.insert(key, info);
        }
        self.refresh_all();
    }

    /// Adds or updates a Service: its cluster IPs, ports and opaque ports
    /// decide the outbound policies of its clients.
    pub fn apply_service(&mut self, service: &Service) {
        if self.outbound.apply_service(service) {
            self.outbound_changed();
        }
    }

    /// Forgets a Service; routes sending to it fail their requests to it.
    pub fn delete_service(&mut self, namespace: &str, name: &str) {
        if self.outbound.delete_service(namespace, name) {
            self.outbound_changed();
        }
    }

    /// Replaces every Service, after a watch restarts.
    pub fn reset_services(&mut self, services: impl IntoIterator<Item = Service>) {
        self.outbound.reset_services(services);
        self.outbound_changed();
    }

    /// The outbound policy of `target` for a client proxy of a pod in
    /// `source_namespace`, computed from the current Services and routes.
    pub fn outbound_policy(
        &self,
        target: OutboundTarget<'_>,
        source_namespace: &str,
    ) -> Result<OutboundPolicy, OutboundError> {
        self.outbound.policy(&self.config, target, source_namespace)
    }

    /// The generation of the latest change to Services or Service routes:
    /// an outbound watcher whose last answer is at least this recent has
    /// nothing to recompute.
    pub fn outbound_generation(&self) -> u64 {
        self.outbound_generation
    }

    /// Records a change to outbound inputs as a generation of its own, so
    /// the generation published to watchers moves.
    fn outbound_changed(&mut self) {
        self.generation += 1;
        self.outbound_generation = self.generation;
    }

    store_kind!(
        policies,
        AuthorizationPolicy,
        apply_authorization_policy,
        delete_authorization_policy,
        reset_authorization_policies,
        "AuthorizationPolicy"
    );
    store_kind!(
        meshtls,
        MeshTlsAuthentication,
        apply_meshtls_authentication,
        delete_meshtls_authentication,
        reset_meshtls_authentications,
        "MeshTLSAuthentication"
    );
    store_kind!(
        networks,
        NetworkAuthentication,
        apply_network_authentication,
        delete_network_authentication,
        reset_network_authentications,
        "NetworkAuthentication"
    );
    store_kind!(
        server_authorizations,
        ServerAuthorization,
        apply_server_authorization,
        delete_server_authorization,
        reset_server_authorizations,
        "ServerAuthorization"
    );

    /// The namespaces whose policies a change in `namespace` can affect: it,
    /// and those with policies referring to authentications in it.
    fn affected_by(&self, namespace: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::from([namespace.to_string()]);
        for ((ns, _), spec) in &self.store.policies {
            let refers = spec
                .required_authentication_refs
                .iter()
                .any(|r| r.namespace.as_deref().unwrap_or(ns) == namespace);
            if refers {
                out.insert(ns.clone());
            }
        }
        out
    }

    fn refresh_all(&mut self) {
        let keys: Vec<Key> = self.pods.keys().cloned().collect();
        self.refresh(&keys);
    }

    fn refresh_namespaces(&mut self, namespaces: &BTreeSet<String>) {
        let keys: Vec<Key> = self
            .pods
            .keys()
            .filter(|(ns, _)| namespaces.contains(ns))
            .cloned()
            .collect();
        self.refresh(&keys);
    }

    fn refresh_pod(&mut self, key: &Key) {
        self.refresh(std::slice::from_ref(key));
    }

    /// Recomputes the given pods' ports; a port whose policy is unchanged
    /// keeps its candidate sets and generation.
    fn refresh(&mut self, keys: &[Key]) {
        let next = self.generation + 1;
        let mut changed = false;
        for key in keys {
            let Some(entry) = self.pods.get(key) else {
                continue;
            };
            let mut ports = entry.info.known_ports();
            ports.extend(entry.requested.iter().copied());
            let mut updated = BTreeMap::new();
            for port in ports {
                let fresh = compute::compute(self, &key.0, &entry.info, port);
                let kept = entry
                    .ports
                    .get(&port)
                    .filter(|old| old.policy.same_as(&fresh));
                let policy = match kept {
                    Some(old) => old.clone(),
                    None => {
                        changed = true;
                        PortPolicy {
                            policy: Arc::new(fresh),
                            generation: next,
                        }
                    }
                };
                updated.insert(port, policy);
            }
            for gone in entry.ports.keys().filter(|p| !updated.contains_key(p)) {
                changed = true;
                let port = PortKey {
                    namespace: key.0.clone(),
                    pod: key.1.clone(),
                    port: *gone,
                };
                self.removed.insert(port, next);
            }
            for port in updated.keys() {
                self.removed.remove(&PortKey {
                    namespace: key.0.clone(),
                    pod: key.1.clone(),
                    port: *port,
                });
            }
            if let Some(entry) = self.pods.get_mut(key) {
                entry.ports = updated;
            }
        }
        if changed {
            self.generation = next;
        }
    }
}

mod compute;
mod unmatched;

#[cfg(test)]
mod tests;
