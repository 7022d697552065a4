//! Headless Services across clusters: a Pod's own name checked before it is
//! followed, and a headless Service whose endpoints are other Services'
//! ClusterIPs (the service mirror's headless mirror, whose endpoints are
//! its per-pod mirrors) resolved through those Services.

use crate::authority::{ResolveError, Target};
use crate::cluster::ClusterIndex;
use crate::endpoint::EndpointSet;

use super::{Clusters, ResolutionKey};

impl Clusters {
    /// What `authority` names in `cluster` ([`ClusterIndex::resolve`]);
    /// `None` for an unknown cluster. A Pod's name under a Service is
    /// refused when the Service exists but is not headless, or has no
    /// endpoint (ready or not) of that hostname, in this cluster or, for a
    /// remote-discovery mirror, in the linked one: as cluster DNS would not
    /// resolve it. A Service that does not exist yet is waited for, as for
    /// any name.
    pub fn resolve(
        &self,
        cluster: &str,
        authority: &str,
        default_namespace: Option<&str>,
    ) -> Option<Result<Target, ResolveError>> {
        let index = self.clusters.get(cluster)?;
        let target = match index.resolve(authority, default_namespace) {
            Ok(target) => target,
            Err(error) => return Some(Err(error)),
        };
        let Target::Service {
            namespace,
            name,
            hostname: Some(hostname),
            ..
        } = &target
        else {
            return Some(Ok(target));
        };
        let Some(service) = index.service(namespace, name) else {
            return Some(Ok(target));
        };
        if !service.headless {
            return Some(Err(ResolveError::NotHeadless {
                authority: authority.to_string(),
                namespace: namespace.clone(),
                service: name.clone(),
            }));
        }
        let known = match &service.remote {
            Some(remote) => self
                .clusters
                .get(&remote.cluster)
                .is_none_or(|r| r.has_hostname(namespace, &remote.service, hostname)),
            None => index.has_hostname(namespace, name, hostname),
        };
        if known {
            Some(Ok(target))
        } else {
            Some(Err(ResolveError::UnknownHostname {
                authority: authority.to_string(),
                namespace: namespace.clone(),
                service: name.clone(),
                hostname: hostname.clone(),
            }))
        }
    }

    /// `set` (of headless Service `key`) with each endpoint whose address
    /// is the ClusterIP of a Service in the same namespace replaced by that
    /// Service's endpoints on the same port, as kube-proxy would send a
    /// connection to it: a headless mirror's per-pod mirrors, each to the
    /// remote Pod (remote discovery) or to the gateway with the Pod's name
    /// as the authority. One step only, so no chain of Services loops.
    ///
    /// Asked for the whole Service (no hostname), an endpoint that carries
    /// an authority to send (a gateway) carries the headless Service's own
    /// remote name instead of one Pod's, so the gateway balances over every
    /// Pod behind it rather than sending all to the last one listed.
    pub(super) fn follow_cluster_ips(
        &self,
        index: &ClusterIndex,
        key: &ResolutionKey,
        set: EndpointSet,
    ) -> EndpointSet {
        let mut followed = EndpointSet {
            gateway_exported: set.gateway_exported,
            ..EndpointSet::default()
        };
        let whole_service = key
            .hostname
            .is_none()
            .then(|| index.service(&key.namespace, &key.service))
            .flatten()
            .and_then(|s| s.remote_fq_name.as_ref())
            .map(|name| format!("{name}:{}", key.port));
        for endpoint in set.endpoints.into_values() {
            let ip = endpoint.address.ip();
            let behind = index
                .services_in(&key.namespace)
                .find(|(_, s)| s.cluster_ips.contains(&ip))
                .map(|(name, _)| name.to_string());
            let Some(service) = behind else {
                followed.insert(endpoint);
                continue;
            };
            let through = ResolutionKey::new(&key.cluster, &key.namespace, &service, key.port);
            for mut endpoint in self
                .compute_following(&through, false)
                .into_iter()
                .flat_map(|s| s.endpoints.into_values())
            {
                if endpoint.authority_override.is_some() && whole_service.is_some() {
                    endpoint.authority_override.clone_from(&whole_service);
                }
                followed.insert(endpoint);
            }
        }
        followed
    }
}

#[cfg(test)]
mod tests;
