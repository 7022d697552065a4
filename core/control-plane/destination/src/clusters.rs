//! Every cluster's index, and the resolutions `Get` streams follow.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::cluster::ClusterIndex;
use crate::config::ClusterConfig;
use crate::endpoint::{Endpoint, EndpointSet};

mod headless;

/// One Service port of one cluster (or one named endpoint of it): what a
/// `Get` stream follows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResolutionKey {
    /// The name of the cluster the Service is in (the asking proxy's).
    pub cluster: String,
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub service: String,
    /// The Service port.
    pub port: u16,
    /// The hostname of the one endpoint meant, for a Pod's own name under
    /// a headless Service (`web-0.web.<ns>.svc...`). Such resolutions are
    /// computed on demand ([`Clusters::endpoints`]), not kept.
    pub hostname: Option<String>,
}

impl ResolutionKey {
    /// The key of `namespace/service:port` in `cluster`.
    pub fn new(cluster: &str, namespace: &str, service: &str, port: u16) -> Self {
        ResolutionKey {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            service: service.to_string(),
            port,
            hostname: None,
        }
    }

    /// The same key for only the endpoint with `hostname`, if given.
    pub fn with_hostname(self, hostname: Option<String>) -> Self {
        ResolutionKey { hostname, ..self }
    }
}

/// The current endpoints of a resolution and the generation at which they
/// last changed, so a stream sends them only when its own generation is
/// older.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The endpoints, shared with every stream that reads them.
    pub endpoints: Arc<EndpointSet>,
    /// The generation of their last change.
    pub generation: u64,
}

/// The indexes of our cluster and of every linked one, by cluster name, and
/// the resolution of every declared Service port in them.
///
/// Changes go through [`Clusters::update`], which recomputes the
/// resolutions in the namespaces the change touched, including
/// remote-discovery mirrors in other clusters that read the changed one.
/// Only a resolution whose endpoint set actually differs takes the new
/// generation, so a watcher compares generations, not endpoint sets. A
/// change to the pods that own IPs moves the generation too, without a
/// resolution: lookups by address ([`Clusters::address_endpoint`]) are not
/// kept, and their watchers compare the endpoint itself.
#[derive(Debug, Default)]
pub struct Clusters {
    clusters: BTreeMap<String, ClusterIndex>,
    generation: u64,
    resolutions: BTreeMap<ResolutionKey, Resolution>,
    /// Resolutions that disappeared (Service or port deleted), with the
    /// generation of the removal, so [`Clusters::changed_since`] reports
    /// them too.
    removed: BTreeMap<ResolutionKey, u64>,
}

impl Clusters {
    /// No clusters yet.
    pub fn new() -> Self {
        Clusters::default()
    }

    /// Adds a cluster (ours, or one learnt from a credentials Secret) with
    /// an empty index, or changes the configuration of a known one (its
    /// identities are then rebuilt). Remote-discovery mirrors that name it
    /// start resolving through it.
    pub fn insert_cluster(&mut self, name: &str, config: ClusterConfig) {
        let mut namespaces = self.mirror_namespaces(name);
        let mut addresses_changed = false;
        match self.clusters.get_mut(name) {
            Some(index) if index.config() == &config => return,
            Some(index) => {
                index.set_config(config);
                namespaces.extend(index.take_changed_namespaces());
                addresses_changed = index.take_addresses_changed();
            }
            None => {
                self.clusters
                    .insert(name.to_string(), ClusterIndex::new(config));
            }
        }
        let before = self.generation;
        self.refresh(name, &namespaces);
        self.addresses_moved(before, addresses_changed);
    }

    /// Forgets a cluster (unlinked); its resolutions are reported removed
    /// and mirrors naming it resolve to no endpoints.
    pub fn remove_cluster(&mut self, name: &str) {
        let Some(index) = self.clusters.remove(name) else {
            return;
        };
        let mut namespaces = self.mirror_namespaces(name);
        namespaces.extend(index.namespaces());
        namespaces.extend(
            self.resolutions
                .keys()
                .filter(|k| k.cluster == name)
                .map(|k| k.namespace.clone()),
        );
        let before = self.generation;
        self.refresh(name, &namespaces);
        // Its pods no longer answer for their addresses.
        self.addresses_moved(before, true);
    }

    /// The index of a cluster, to read.
    pub fn cluster(&self, name: &str) -> Option<&ClusterIndex> {
        self.clusters.get(name)
    }

    /// Applies `change` to a cluster's index (`apply_*`, `delete_*`,
    /// `reset_*`) and brings the resolutions it affects up to date; `None`
    /// for an unknown cluster.
    pub fn update<R>(
        &mut self,
        cluster: &str,
        change: impl FnOnce(&mut ClusterIndex) -> R,
    ) -> Option<R> {
        let index = self.clusters.get_mut(cluster)?;
        let out = change(index);
        let namespaces = index.take_changed_namespaces();
        let addresses_changed = index.take_addresses_changed();
        let before = self.generation;
        if !namespaces.is_empty() {
            self.refresh(cluster, &namespaces);
        }
        self.addresses_moved(before, addresses_changed);
        Some(out)
    }

    /// The endpoint of `address` in `cluster`, an IP that is no ClusterIP
    /// (see [`ClusterIndex::address_endpoint`]); the address alone while
    /// the cluster is unknown. Computed on each call: a watcher compares
    /// it with what it sent when the generation moves.
    pub fn address_endpoint(&self, cluster: &str, address: SocketAddr) -> Endpoint {
        self.clusters.get(cluster).map_or_else(
            || Endpoint::unknown(address),
            |index| index.address_endpoint(address),
        )
    }

    /// Whether a Service port is opaque in `cluster` (see
    /// [`ClusterIndex::opaque_port`]); false while the cluster is unknown.
    pub fn opaque_port(&self, cluster: &str, namespace: &str, service: &str, port: u16) -> bool {
        self.clusters
            .get(cluster)
            .is_some_and(|index| index.opaque_port(namespace, service, port))
    }

    /// The generation of the latest change; a stream starts from here.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The current resolution of a declared Service port; `None` for an
    /// unknown cluster, Service or undeclared port.
    pub fn resolution(&self, key: &ResolutionKey) -> Option<Resolution> {
        self.resolutions.get(key).cloned()
    }

    /// The endpoints of a Service port: for a remote-discovery mirror, the
    /// linked cluster's endpoints of the remote Service (an empty set while
    /// that cluster or Service is unknown), otherwise the cluster's own.
    /// `None` when the Service does not exist. A port the Service does not
    /// declare is computed on demand and not followed by
    /// [`Clusters::changed_since`].
    pub fn endpoints(&self, key: &ResolutionKey) -> Option<Arc<EndpointSet>> {
        match self.resolutions.get(key) {
            Some(resolution) => Some(resolution.endpoints.clone()),
            None => self.compute(key).map(Arc::new),
        }
    }

    /// Resolutions whose endpoints changed, appeared or disappeared after
    /// `generation`; one that is gone has no [`Clusters::resolution`].
    pub fn changed_since(&self, generation: u64) -> Vec<ResolutionKey> {
        let live = self
            .resolutions
            .iter()
            .filter(|(_, r)| r.generation > generation)
            .map(|(k, _)| k.clone());
        let gone = self
            .removed
            .iter()
            .filter(|(_, g)| **g > generation)
            .map(|(k, _)| k.clone());
        live.chain(gone).collect()
    }

    /// Drops the record of resolutions removed at or before `generation`,
    /// once every stream has seen it.
    pub fn forget_removed_until(&mut self, generation: u64) {
        self.removed.retain(|_, g| *g > generation);
    }

    fn compute(&self, key: &ResolutionKey) -> Option<EndpointSet> {
        self.compute_following(key, true)
    }

    /// The endpoints of `key`: through the linked cluster for a
    /// remote-discovery mirror, with only the endpoint of the key's (or a
    /// per-pod mirror's) hostname when there is one; and, when `follow`,
    /// a headless Service's endpoints that are ClusterIPs resolved through
    /// their Services ([`Clusters::follow_cluster_ips`]).
    fn compute_following(&self, key: &ResolutionKey, follow: bool) -> Option<EndpointSet> {
        let index = self.clusters.get(&key.cluster)?;
        let service = index.service(&key.namespace, &key.service)?;
        if let Some(federation) = &service.federated {
            return Some(self.federated_endpoints(index, key, federation));
        }
        let set = match &service.remote {
            Some(remote) => {
                let hostname = key.hostname.as_deref().or(remote.hostname.as_deref());
                Some(
                    self.clusters
                        .get(&remote.cluster)
                        .and_then(|r| {
                            r.named_endpoints(&key.namespace, &remote.service, key.port, hostname)
                        })
                        .unwrap_or_default(),
                )
            }
            None => index.named_endpoints(
                &key.namespace,
                &key.service,
                key.port,
                key.hostname.as_deref(),
            ),
        };
        let set = match set {
            Some(set) if follow && service.headless && service.remote.is_none() => {
                Some(self.follow_cluster_ips(index, key, set))
            }
            set => set,
        };
        set.map(|set| EndpointSet {
            gateway_exported: service.gateway_exported,
            ..set
        })
    }

    /// A federated Service's endpoints: those of its local member and of
    /// each remote member at the same port, each with its own cluster's
    /// identities; a member whose cluster or Service is unknown adds none.
    fn federated_endpoints(
        &self,
        index: &ClusterIndex,
        key: &ResolutionKey,
        federation: &crate::cluster::Federation,
    ) -> EndpointSet {
        let local = federation
            .local
            .as_ref()
            .and_then(|service| index.local_endpoints(&key.namespace, service, key.port));
        let remote = federation.remote.iter().filter_map(|member| {
            self.clusters.get(&member.cluster)?.local_endpoints(
                &key.namespace,
                &member.service,
                key.port,
            )
        });
        let mut set = EndpointSet::default();
        for member in local.into_iter().chain(remote) {
            set.endpoints.extend(member.endpoints);
        }
        set
    }

    /// Moves the generation when the pods behind addresses changed and the
    /// refresh since `before` did not already move it, so that watchers of
    /// addresses wake.
    fn addresses_moved(&mut self, before: u64, changed: bool) {
        if changed && self.generation == before {
            self.generation += 1;
        }
    }

    /// Namespaces holding remote-discovery mirrors or federated Services
    /// (in any cluster) that resolve through `cluster`.
    fn mirror_namespaces(&self, cluster: &str) -> BTreeSet<String> {
        self.clusters
            .values()
            .flat_map(|index| index.all_services())
            .filter(|(_, s)| s.reads_cluster(cluster))
            .map(|((ns, _), _)| ns.clone())
            .collect()
    }

    /// Recomputes the resolutions that `changed`'s `namespaces` can affect:
    /// its own Service ports there, and the mirrors elsewhere reading them.
    fn refresh(&mut self, changed: &str, namespaces: &BTreeSet<String>) {
        let mut affected = BTreeSet::new();
        for (name, index) in &self.clusters {
            for namespace in namespaces {
                for (service, info) in index.services_in(namespace) {
                    let reads_changed = name == changed || info.reads_cluster(changed);
                    if reads_changed {
                        affected.extend(
                            info.ports
                                .iter()
                                .map(|p| ResolutionKey::new(name, namespace, service, p.port)),
                        );
                    }
                }
            }
        }
        let stale: Vec<ResolutionKey> = self
            .resolutions
            .keys()
            .filter(|k| k.cluster == changed && namespaces.contains(&k.namespace))
            .filter(|k| !affected.contains(*k))
            .cloned()
            .collect();

        let next = self.generation + 1;
        let mut moved = !stale.is_empty();
        for key in stale {
            self.resolutions.remove(&key);
            self.removed.insert(key, next);
        }
        for key in affected {
            let fresh = self.compute(&key).unwrap_or_default();
            if self
                .resolutions
                .get(&key)
                .is_some_and(|r| *r.endpoints == fresh)
            {
                continue;
            }
            moved = true;
            self.removed.remove(&key);
            self.resolutions.insert(
                key,
                Resolution {
                    endpoints: Arc::new(fresh),
                    generation: next,
                },
            );
        }
        if moved {
            self.generation = next;
        }
    }
}

#[cfg(test)]
mod tests;
