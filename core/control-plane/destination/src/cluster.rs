//! One cluster's Services, Endpoints, EndpointSlices and pods.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use strait_api::key::{Key, key_of};

use crate::authority::{self, ResolveError, Target};
use crate::config::ClusterConfig;
use crate::pod::PodInfo;

mod addresses;
mod endpoints;
mod resources;

use resources::{EndpointsInfo, SliceInfo};
pub(crate) use resources::{Federation, ServiceInfo, opaque_ports};

/// The resources of one cluster that resolutions are computed from.
///
/// Each cluster (ours and every linked one) has its own index, with its own
/// [`ClusterConfig`], because names and identities are spelled per cluster.
/// Every change that alters what a resolution could read marks its
/// namespace, so that [`crate::Clusters`] recomputes only the resolutions
/// in namespaces that changed.
#[derive(Debug, Default)]
pub struct ClusterIndex {
    config: ClusterConfig,
    services: BTreeMap<Key, ServiceInfo>,
    endpoints: BTreeMap<Key, EndpointsInfo>,
    slices: BTreeMap<Key, SliceInfo>,
    pods: BTreeMap<Key, PodInfo>,
    /// The pods that own each IP ([`PodInfo::owns_ips`]), for lookups by
    /// address; more than one only while the API server's view is
    /// inconsistent.
    pod_ips: BTreeMap<IpAddr, BTreeSet<Key>>,
    /// Namespaces changed since [`ClusterIndex::take_changed_namespaces`].
    changed: BTreeSet<String>,
    /// Whether what a lookup by address could answer changed since
    /// [`ClusterIndex::take_addresses_changed`].
    addresses_changed: bool,
}

/// `apply`, `delete` and `reset` for one kind of resource; each marks the
/// namespace of every entry whose kept information actually changed, and
/// calls `on_change` (when given) with the key and the entry it replaced,
/// so that an index derived from this kind follows it.
macro_rules! resource_kind {
    ($field:ident, $ty:ty, $info:expr, $apply:ident, $delete:ident, $reset:ident, $what:literal $(, on_change = $hook:ident)?) => {
        #[doc = concat!("Adds or updates a ", $what, ".")]
        pub fn $apply(&mut self, resource: &$ty) {
            let key = key_of(&resource.metadata);
            let info = $info(resource);
            if self.$field.get(&key) != Some(&info) {
                self.changed.insert(key.0.clone());
                let _old = self.$field.insert(key.clone(), info);
                $(self.$hook(&key, _old.as_ref());)?
            }
        }

        #[doc = concat!("Forgets a ", $what, ".")]
        pub fn $delete(&mut self, namespace: &str, name: &str) {
            let key = (namespace.to_string(), name.to_string());
            if let Some(_old) = self.$field.remove(&key) {
                $(self.$hook(&key, Some(&_old));)?
                self.changed.insert(key.0);
            }
        }

        #[doc = concat!("Replaces every ", $what, ", after a watch restarts.")]
        pub fn $reset(&mut self, resources: impl IntoIterator<Item = $ty>) {
            let fresh: BTreeMap<Key, _> = resources
                .into_iter()
                .map(|r| (key_of(&r.metadata), $info(&r)))
                .collect();
            let old = std::mem::replace(&mut self.$field, fresh);
            let mut moved: Vec<Key> = Vec::new();
            for (key, old_info) in &old {
                if self.$field.get(key) != Some(old_info) {
                    moved.push(key.clone());
                }
            }
            for key in self.$field.keys() {
                if !old.contains_key(key) {
                    moved.push(key.clone());
                }
            }
            for key in moved {
                $(self.$hook(&key, old.get(&key));)?
                self.changed.insert(key.0);
            }
        }
    };
}

impl ClusterIndex {
    /// An empty index for a cluster named and identified as `config` says.
    pub fn new(config: ClusterConfig) -> Self {
        ClusterIndex {
            config,
            ..ClusterIndex::default()
        }
    }

    /// The settings the index was built with.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// What `authority` names in this cluster: a Service port by any of the
    /// name forms Linkerd accepts (`<svc>` is completed with
    /// `default_namespace`, the asking pod's namespace), or a ClusterIP
    /// with a port. An IP that is no ClusterIP is returned as an address.
    pub fn resolve(
        &self,
        authority: &str,
        default_namespace: Option<&str>,
    ) -> Result<Target, ResolveError> {
        let target = authority::parse(authority, &self.config.cluster_domain, default_namespace)?;
        let Target::Address(addr) = target else {
            return Ok(target);
        };
        let service = self
            .services
            .iter()
            .find(|(_, s)| s.cluster_ips.contains(&addr.ip()));
        Ok(match service {
            Some(((namespace, name), _)) => Target::Service {
                namespace: namespace.clone(),
                name: name.clone(),
                port: addr.port(),
                hostname: None,
            },
            None => Target::Address(addr),
        })
    }

    resource_kind!(
        services,
        Service,
        ServiceInfo::from_service,
        apply_service,
        delete_service,
        reset_services,
        "Service"
    );
    resource_kind!(
        endpoints,
        Endpoints,
        EndpointsInfo::from_endpoints,
        apply_endpoints,
        delete_endpoints,
        reset_endpoints,
        "Endpoints object"
    );
    resource_kind!(
        slices,
        EndpointSlice,
        SliceInfo::from_slice,
        apply_endpoint_slice,
        delete_endpoint_slice,
        reset_endpoint_slices,
        "discovery.k8s.io/v1 EndpointSlice"
    );
    resource_kind!(
        pods,
        Pod,
        PodInfo::from_pod,
        apply_pod,
        delete_pod,
        reset_pods,
        "pod",
        on_change = index_pod_ips
    );

    /// Whether port `port` of Service `namespace/name` is opaque: its
    /// `config.linkerd.io/opaque-ports` annotation lists it. A profile of
    /// the Service says so, so the client proxy skips protocol detection.
    pub fn opaque_port(&self, namespace: &str, name: &str, port: u16) -> bool {
        self.service(namespace, name)
            .is_some_and(|service| service.opaque_ports.contains(port))
    }

    pub(crate) fn service(&self, namespace: &str, name: &str) -> Option<&ServiceInfo> {
        self.services
            .get(&(namespace.to_string(), name.to_string()))
    }

    /// Every Service in `namespace`, by name.
    pub(crate) fn services_in<'a>(
        &'a self,
        namespace: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a ServiceInfo)> + 'a {
        self.services
            .range((namespace.to_string(), String::new())..)
            .take_while(move |((ns, _), _)| ns == namespace)
            .map(|((_, name), info)| (name.as_str(), info))
    }

    /// Every Service, by `(namespace, name)`.
    pub(crate) fn all_services(&self) -> impl Iterator<Item = (&Key, &ServiceInfo)> {
        self.services.iter()
    }

    /// Every namespace that holds anything, so that a cluster appearing or
    /// disappearing refreshes all it affects.
    pub(crate) fn namespaces(&self) -> BTreeSet<String> {
        let keys = self
            .services
            .keys()
            .chain(self.endpoints.keys())
            .chain(self.slices.keys())
            .chain(self.pods.keys());
        keys.map(|(ns, _)| ns.clone()).collect()
    }

    /// Replaces the configuration, marking every namespace and address
    /// changed since every identity may now be spelled differently.
    pub(crate) fn set_config(&mut self, config: ClusterConfig) {
        self.config = config;
        let namespaces = self.namespaces();
        self.changed.extend(namespaces);
        self.addresses_changed = true;
    }

    /// The namespaces changed since the last call, emptied.
    pub(crate) fn take_changed_namespaces(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.changed)
    }

    /// Whether a lookup by address may answer differently since the last
    /// call.
    pub(crate) fn take_addresses_changed(&mut self) -> bool {
        std::mem::take(&mut self.addresses_changed)
    }
}

#[cfg(test)]
mod tests;
