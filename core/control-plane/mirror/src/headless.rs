//! Remote headless Services, mirrored as Linkerd's service mirror mirrors
//! them: a headless mirror (`web-east`, `clusterIP: None`) and, per
//! hostname among the remote Service's ready endpoints (a StatefulSet's
//! `web-0`), a per-pod mirror (`web-0-east`) with a ClusterIP of its own.
//! The headless mirror's Endpoints list each hostname at its per-pod
//! mirror's ClusterIP, so `web-0.web-east.<ns>.svc.<domain>` names the
//! per-pod mirror, which stands for the remote Pod
//! `web-0.web.<ns>.svc.<remote domain>`: through the gateway (Endpoints at
//! the gateway, the Pod's name the authority to send) or, in
//! remote-discovery mode, resolved by the destination to the remote Pod
//! itself.
//!
//! A remote headless Service whose endpoints have no hostname (a
//! Deployment behind it) is mirrored with a ClusterIP, as any other. Once
//! mirrored headless, a mirror stays headless while the remote Service
//! is, so scaling the set to zero does not replace it.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointSubset, Endpoints, Service, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::key::{Key, key_of};
use strait_api::labels;
use strait_api::service::{CLUSTER_IP_NONE, HEADLESS_LABEL, is_headless};
use strait_store::{ClusterStore, Event, StoreError};

use crate::config::{Gateway, LinkConfig};
use crate::desired::{FIELD_MANAGER, endpoints_are_current, gateway_endpoints, service_is_current};

/// The target cluster's Endpoints of headless Services (those labelled
/// `service.kubernetes.io/headless`), by Service.
#[derive(Debug, Default)]
pub(crate) struct RemoteHeadless {
    endpoints: BTreeMap<Key, Endpoints>,
}

impl RemoteHeadless {
    /// Takes one event of the target cluster's Endpoints watch; returns
    /// the Services whose headless endpoints changed.
    pub(crate) fn take(&mut self, event: &Event<Endpoints>) -> Vec<Key> {
        let headless = |e: &Endpoints| {
            e.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(HEADLESS_LABEL))
        };
        let mut changed = Vec::new();
        let known: Vec<Key> = self.endpoints.keys().cloned().collect();
        let mut set = |key: Key, endpoints: Option<&Endpoints>| {
            let old = self.endpoints.get(&key);
            let new = endpoints.filter(|e| headless(e));
            if old.map(|e| &e.subsets) != new.map(|e| &e.subsets) || old.is_some() != new.is_some()
            {
                changed.push(key.clone());
            }
            match new {
                Some(e) => self.endpoints.insert(key, e.clone()),
                None => self.endpoints.remove(&key),
            };
        };
        match event {
            Event::Apply(e) => set(key_of(&e.metadata), Some(e)),
            Event::Delete(e) => set(key_of(&e.metadata), None),
            Event::Reset(all) => {
                let fresh: BTreeMap<Key, &Endpoints> =
                    all.iter().map(|e| (key_of(&e.metadata), e)).collect();
                for key in known.iter().filter(|k| !fresh.contains_key(*k)) {
                    set(key.clone(), None);
                }
                for (key, e) in fresh {
                    set(key, Some(e));
                }
            }
        }
        changed
    }

    /// The Endpoints of remote headless Service `key`, if it has any.
    pub(crate) fn get(&self, key: &Key) -> Option<&Endpoints> {
        self.endpoints.get(key)
    }
}

/// The hostnames of the ready addresses of remote `endpoints`, in order.
pub(crate) fn ready_hostnames(endpoints: &Endpoints) -> BTreeSet<String> {
    endpoints
        .subsets
        .iter()
        .flatten()
        .flat_map(|s| s.addresses.iter().flatten())
        .filter_map(|a| a.hostname.clone())
        .filter(|h| !h.is_empty())
        .collect()
}

/// Makes `mirror` headless when `remote` is and is to be mirrored so:
/// its endpoints have a hostname, or the current mirror (`existing`) is
/// headless already. Returns whether it is.
pub(crate) fn shape(
    mirror: &mut Service,
    remote: &Service,
    remote_endpoints: Option<&Endpoints>,
    existing: Option<&Service>,
) -> bool {
    let named = remote_endpoints.is_some_and(|e| {
        e.subsets.iter().flatten().any(|s| {
            s.addresses
                .iter()
                .flatten()
                .chain(s.not_ready_addresses.iter().flatten())
                .any(|a| a.hostname.as_deref().is_some_and(|h| !h.is_empty()))
        })
    });
    let headless = is_headless(remote) && (named || existing.is_some_and(is_headless));
    if headless {
        mirror
            .spec
            .get_or_insert_with(ServiceSpec::default)
            .cluster_ip = Some(CLUSTER_IP_NONE.into());
    }
    headless
}

/// Whether `existing` must be replaced to become `desired`: a Service's
/// ClusterIP cannot change, so a mirror turning headless is made anew.
pub(crate) fn must_replace(existing: &Service, desired: &Service) -> bool {
    is_headless(existing) != is_headless(desired)
}

/// Whether `svc` is a per-pod mirror (of any headless mirror).
pub(crate) fn is_pod_mirror(svc: &Service) -> bool {
    svc.metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(labels::MIRRORED_HEADLESS_SVC_NAME))
}

/// Whether `svc` is a per-pod mirror of headless mirror `mirror`.
pub(crate) fn is_pod_mirror_of(svc: &Service, mirror: &str) -> bool {
    svc.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::MIRRORED_HEADLESS_SVC_NAME))
        .is_some_and(|m| m == mirror)
}

/// The per-pod mirror of remote Pod `hostname` behind headless `mirror`
/// (of remote Service `remote_name`): the mirror's labels (so it resolves
/// in the same mode) and the label naming the headless mirror, the
/// remote Pod's own name as its remote name, the same ports, and a
/// ClusterIP of its own.
pub(crate) fn pod_mirror(
    mirror: &Service,
    remote_name: &str,
    hostname: &str,
    link: &LinkConfig,
) -> Service {
    let namespace = mirror.metadata.namespace.clone().unwrap_or_default();
    let mirror_name = mirror.metadata.name.clone().unwrap_or_default();
    let mut mirror_labels = mirror.metadata.labels.clone().unwrap_or_default();
    mirror_labels.insert(labels::MIRRORED_HEADLESS_SVC_NAME.into(), mirror_name);
    let mut annotations = mirror.metadata.annotations.clone().unwrap_or_default();
    annotations.insert(
        labels::REMOTE_SVC_FQ_NAME.into(),
        format!(
            "{hostname}.{}",
            link.remote_fq_name(remote_name, &namespace)
        ),
    );
    Service {
        metadata: ObjectMeta {
            name: Some(link.mirror_name(hostname)),
            namespace: Some(namespace),
            labels: Some(mirror_labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            ports: mirror.spec.as_ref().and_then(|s| s.ports.clone()),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The headless mirror's Endpoints: each ready remote address with a
/// hostname, at the ClusterIP of its per-pod mirror (`cluster_ips`, by
/// hostname), in the remote subsets' shape and ports; with the remote
/// Service's name and, through a gateway, the gateway's identity, as
/// Linkerd writes them.
pub(crate) fn headless_endpoints(
    mirror: &Service,
    remote_endpoints: &Endpoints,
    cluster_ips: &BTreeMap<String, String>,
    gateway: Option<&Gateway>,
) -> Endpoints {
    let subsets: Vec<EndpointSubset> = remote_endpoints
        .subsets
        .iter()
        .flatten()
        .filter_map(|subset| {
            let addresses: Vec<EndpointAddress> = subset
                .addresses
                .iter()
                .flatten()
                .filter_map(|a| {
                    let hostname = a.hostname.clone().filter(|h| !h.is_empty())?;
                    Some(EndpointAddress {
                        ip: cluster_ips.get(&hostname)?.clone(),
                        hostname: Some(hostname),
                        ..EndpointAddress::default()
                    })
                })
                .collect();
            (!addresses.is_empty()).then(|| EndpointSubset {
                addresses: Some(addresses),
                ports: subset.ports.clone(),
                ..EndpointSubset::default()
            })
        })
        .collect();
    let mirror_annotations = mirror.metadata.annotations.as_ref();
    let mut annotations = BTreeMap::new();
    if let Some(name) = mirror_annotations.and_then(|a| a.get(labels::REMOTE_SVC_FQ_NAME)) {
        annotations.insert(labels::REMOTE_SVC_FQ_NAME.to_string(), name.clone());
    }
    if let Some(gateway) = gateway {
        annotations.insert(
            labels::REMOTE_GATEWAY_IDENTITY.to_string(),
            gateway.identity.clone(),
        );
    }
    let mirror_labels = mirror.metadata.labels.as_ref().map(|l| {
        l.iter()
            .filter(|(k, _)| *k == labels::MIRRORED_SERVICE || *k == labels::MIRROR_CLUSTER_NAME)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    Endpoints {
        metadata: ObjectMeta {
            name: mirror.metadata.name.clone(),
            namespace: mirror.metadata.namespace.clone(),
            labels: mirror_labels,
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        subsets: Some(subsets),
    }
}

/// How a headless mirror's per-pod mirrors reach their Pods.
pub(crate) enum Reach<'a> {
    /// Through the gateway, which is alive or not.
    Gateway(&'a Gateway, bool),
    /// Resolved by the destination to the remote Pods.
    RemoteDiscovery,
}

/// Writes a headless mirror's per-pod mirrors (with their Endpoints at the
/// gateway in gateway mode) and its own Endpoints, and deletes the per-pod
/// mirrors of hostnames no longer there; `existing` is what this cluster
/// has of them now.
pub(crate) async fn reconcile<L: ClusterStore>(
    local: &L,
    link: &LinkConfig,
    mirror: &Service,
    remote_name: &str,
    remote_endpoints: Option<&Endpoints>,
    existing: &[Service],
    reach: Reach<'_>,
) -> Result<(), StoreError> {
    let namespace = mirror.metadata.namespace.clone().unwrap_or_default();
    let hostnames = remote_endpoints.map(ready_hostnames).unwrap_or_default();
    let mut cluster_ips = BTreeMap::new();
    for hostname in &hostnames {
        let desired = pod_mirror(mirror, remote_name, hostname, link);
        let name = desired.metadata.name.clone().unwrap_or_default();
        let current = existing
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(name.as_str()))
            .filter(|s| service_is_current(s, &desired));
        let stored = match current {
            Some(current) => current.clone(),
            None => local.apply(&desired, FIELD_MANAGER).await?,
        };
        if let Some(ip) = stored.spec.as_ref().and_then(|s| s.cluster_ip.clone()) {
            cluster_ips.insert(hostname.clone(), ip);
        }
        if let Reach::Gateway(gateway, alive) = reach {
            let endpoints = gateway_endpoints(&desired, gateway, true, alive);
            apply_endpoints(local, &namespace, &name, &endpoints).await?;
        }
    }
    let wanted: BTreeSet<String> = hostnames.iter().map(|h| link.mirror_name(h)).collect();
    for stale in existing
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .filter(|name| !wanted.contains(name))
    {
        delete_pod_mirror(local, &namespace, &stale).await?;
    }
    let gateway = match reach {
        Reach::Gateway(gateway, _) => Some(gateway),
        Reach::RemoteDiscovery => None,
    };
    let empty = Endpoints::default();
    let endpoints = headless_endpoints(
        mirror,
        remote_endpoints.unwrap_or(&empty),
        &cluster_ips,
        gateway,
    );
    let name = mirror.metadata.name.clone().unwrap_or_default();
    apply_endpoints(local, &namespace, &name, &endpoints).await
}

/// Deletes per-pod mirrors (and their Endpoints), of a headless mirror
/// that goes or is no longer headless.
pub(crate) async fn remove_pod_mirrors<L: ClusterStore>(
    local: &L,
    pod_mirrors: &[Service],
) -> Result<(), StoreError> {
    for svc in pod_mirrors {
        let (namespace, name) = key_of(&svc.metadata);
        delete_pod_mirror(local, &namespace, &name).await?;
    }
    Ok(())
}

async fn delete_pod_mirror<L: ClusterStore>(
    local: &L,
    namespace: &str,
    name: &str,
) -> Result<(), StoreError> {
    for result in [
        local.delete::<Service>(namespace, name).await,
        local.delete::<Endpoints>(namespace, name).await,
    ] {
        match result {
            Ok(()) | Err(StoreError::NotFound { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

async fn apply_endpoints<L: ClusterStore>(
    local: &L,
    namespace: &str,
    name: &str,
    desired: &Endpoints,
) -> Result<(), StoreError> {
    let existing: Option<Endpoints> = local.get(namespace, name).await?;
    if !existing.is_some_and(|e| endpoints_are_current(&e, desired)) {
        local.apply(desired, FIELD_MANAGER).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
