//! Lookups by address: the pod behind an IP that is no ClusterIP.

use std::net::SocketAddr;

use super::{ClusterIndex, Key};
use crate::endpoint::Endpoint;
use crate::pod::PodInfo;

impl ClusterIndex {
    /// The endpoint at `address`, an IP that is no ClusterIP (a StatefulSet
    /// member, a headless Service's pod, a direct call): when exactly one
    /// pod owns the IP and it is meshed, that pod's endpoint, with the
    /// identity, hint and labels a Service endpoint of the pod has, so the
    /// client proxy sends mTLS; otherwise [`Endpoint::unknown`], as for an
    /// address outside the cluster.
    ///
    /// An unmeshed pod is answered as unknown too: nothing there terminates
    /// TLS, and the answer stays what it was before pods were looked up.
    /// An IP two running pods claim is not trusted to either.
    pub fn address_endpoint(&self, address: SocketAddr) -> Endpoint {
        let mut owners = self.pod_ips.get(&address.ip()).into_iter().flatten();
        let pod = match (owners.next(), owners.next()) {
            (Some(key), None) => self.pods.get(key).map(|pod| (key, pod)),
            _ => None,
        };
        match pod.filter(|(_, pod)| pod.meshed) {
            Some(((namespace, _), pod)) => self.pod_endpoint(namespace, address, Some(pod), false),
            None => Endpoint::unknown(address),
        }
    }

    /// Keeps [`ClusterIndex::address_endpoint`]'s IP index in step with
    /// the pod at `key`, which replaced `old` (the pod is read from the
    /// index; absent when it was deleted).
    pub(super) fn index_pod_ips(&mut self, key: &Key, old: Option<&PodInfo>) {
        for ip in old
            .filter(|pod| pod.owns_ips)
            .into_iter()
            .flat_map(|pod| &pod.ips)
        {
            if let Some(owners) = self.pod_ips.get_mut(ip) {
                owners.remove(key);
                if owners.is_empty() {
                    self.pod_ips.remove(ip);
                }
            }
        }
        let new = self.pods.get(key).filter(|pod| pod.owns_ips);
        for ip in new.into_iter().flat_map(|pod| &pod.ips) {
            self.pod_ips.entry(*ip).or_default().insert(key.clone());
        }
        if old.is_some_and(|pod| pod.owns_ips) || new.is_some() {
            self.addresses_changed = true;
        }
    }
}

#[cfg(test)]
mod tests;
