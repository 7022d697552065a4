//! The EndpointSlice controller: each Service with a selector gets one
//! EndpointSlice (and the older Endpoints object) listing the Pods it
//! selects, with their readiness and the Service's ports resolved to the
//! Pods' container ports. A Pod whose `spec.subdomain` names the Service
//! is listed under its `spec.hostname` (a StatefulSet's Pods under their
//! headless Service), and a headless Service's endpoints carry
//! `service.kubernetes.io/headless`, as the endpoints controllers write
//! them. Services without a selector (the service mirror's mirrors) are
//! someone else's and left alone.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort as CorePort, EndpointSubset, Endpoints, ObjectReference, Pod,
    Service,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use strait_api::key::{Key, key_of};
use strait_api::pod::is_ready;
use strait_api::service::{HEADLESS_LABEL, is_headless, pod_hostname};
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, WatchParams};

use crate::FIELD_MANAGER;
use crate::naming;

/// The label tying an EndpointSlice to its Service.
pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The label naming the controller that manages a slice.
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// Our value of [`MANAGED_BY_LABEL`].
const MANAGED_BY: &str = "strait-local";

enum Input {
    Service(Box<Event<Service>>),
    Pod(Box<Event<Pod>>),
}

/// Keeps every selecting Service's endpoints current until the store's
/// watches end.
pub(crate) async fn run(store: MemoryStore) {
    let services: BoxStream<'static, Input> = store
        .watch::<Service>(WatchParams::all())
        .filter_map(|e| async move { e.ok().map(|e| Input::Service(Box::new(e))) })
        .boxed();
    let pods: BoxStream<'static, Input> = store
        .watch::<Pod>(WatchParams::all())
        .filter_map(|e| async move { e.ok().map(|e| Input::Pod(Box::new(e))) })
        .boxed();
    let mut inputs = stream::select(services, pods);
    let mut state = State::default();
    while let Some(input) = inputs.next().await {
        state.take(input);
        // Take whatever else is already queued before writing.
        while let Some(Some(input)) = futures::FutureExt::now_or_never(inputs.next()) {
            state.take(input);
        }
        state.sync(&store).await;
    }
}

#[derive(Default)]
struct State {
    services: BTreeMap<Key, Service>,
    pods: BTreeMap<Key, Pod>,
    /// What was last written per Service.
    written: BTreeMap<Key, (EndpointSlice, Endpoints)>,
    dirty: BTreeSet<String>,
}

impl State {
    fn take(&mut self, input: Input) {
        match input {
            Input::Service(event) => {
                apply_event(&mut self.services, &mut self.dirty, *event, |s| &s.metadata)
            }
            Input::Pod(event) => {
                apply_event(&mut self.pods, &mut self.dirty, *event, |p| &p.metadata);
            }
        }
    }

    async fn sync(&mut self, store: &MemoryStore) {
        for namespace in std::mem::take(&mut self.dirty) {
            let selecting: Vec<&Service> = self
                .services
                .range((namespace.clone(), String::new())..)
                .take_while(|((ns, _), _)| *ns == namespace)
                .map(|(_, s)| s)
                .filter(|s| selector(s).is_some())
                .collect();
            let pods: Vec<&Pod> = self
                .pods
                .range((namespace.clone(), String::new())..)
                .take_while(|((ns, _), _)| *ns == namespace)
                .map(|(_, p)| p)
                .collect();
            let mut wanted = BTreeMap::new();
            for service in selecting {
                wanted.insert(
                    key_of(&service.metadata),
                    endpoints_for(service, pods.iter().copied()),
                );
            }
            let gone: Vec<Key> = self
                .written
                .keys()
                .filter(|(ns, _)| *ns == namespace)
                .filter(|k| !wanted.contains_key(*k))
                .cloned()
                .collect();
            for key in gone {
                if let Some((slice, _)) = self.written.remove(&key) {
                    let name = slice.metadata.name.unwrap_or_default();
                    ignore_missing(store.delete::<EndpointSlice>(&key.0, &name).await);
                    ignore_missing(store.delete::<Endpoints>(&key.0, &key.1).await);
                }
            }
            for (key, (slice, endpoints)) in wanted {
                if self.written.get(&key) == Some(&(slice.clone(), endpoints.clone())) {
                    continue;
                }
                let wrote = store.apply(&slice, FIELD_MANAGER).await;
                let wrote_too = store.apply(&endpoints, FIELD_MANAGER).await;
                match (wrote, wrote_too) {
                    (Ok(_), Ok(_)) => {
                        self.written.insert(key, (slice, endpoints));
                    }
                    (Err(err), _) | (_, Err(err)) => {
                        tracing::warn!(service = %key.1, namespace = %key.0, "cannot write endpoints: {err}");
                        self.written.remove(&key);
                    }
                }
            }
        }
    }
}

fn apply_event<K>(
    map: &mut BTreeMap<Key, K>,
    dirty: &mut BTreeSet<String>,
    event: Event<K>,
    meta: impl Fn(&K) -> &ObjectMeta,
) {
    match event {
        Event::Apply(object) => {
            let key = key_of(meta(&object));
            dirty.insert(key.0.clone());
            map.insert(key, object);
        }
        Event::Delete(object) => {
            let key = key_of(meta(&object));
            dirty.insert(key.0.clone());
            map.remove(&key);
        }
        Event::Reset(all) => {
            dirty.extend(map.keys().map(|k| k.0.clone()));
            *map = all.into_iter().map(|o| (key_of(meta(&o)), o)).collect();
            dirty.extend(map.keys().map(|k| k.0.clone()));
        }
    }
}

fn ignore_missing(result: Result<(), StoreError>) {
    match result {
        Ok(()) | Err(StoreError::NotFound { .. }) => {}
        Err(err) => tracing::warn!("cannot delete endpoints: {err}"),
    }
}

/// A Service's selector, when it has a non-empty one.
fn selector(service: &Service) -> Option<&BTreeMap<String, String>> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
}

/// The name of a Service's slice: stable, so a restart finds and rewrites
/// the same object.
pub(crate) fn slice_name(service: &str, namespace: &str) -> String {
    let suffix: String = naming::template_hash(&serde_json::json!([namespace, service]))
        .chars()
        .take(5)
        .collect();
    format!("{service}-{suffix}")
}

fn pod_ip(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"))
        || pod.metadata.deletion_timestamp.is_some()
    {
        return None;
    }
    status.pod_ip.clone().filter(|ip| !ip.is_empty())
}

/// The port a Pod serves a Service port's `targetPort` on.
fn target_port(target: Option<&IntOrString>, port: i32, pod: &Pod) -> Option<i32> {
    match target {
        None => Some(port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => match name.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => pod
                .spec
                .as_ref()?
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .map(|p| p.container_port),
        },
    }
}

/// A Service port as the selected Pods serve it: its name, the port on the
/// Pod and the protocol.
type ResolvedPort = (String, i32, String);

/// The EndpointSlice and Endpoints of `service` over `pods` (of its
/// namespace): the selected Pods with an address, ready or not, and the
/// Service's ports as the first such Pod resolves them (a Pod resolving a
/// named port differently is left out).
pub(crate) fn endpoints_for<'a>(
    service: &Service,
    pods: impl Iterator<Item = &'a Pod>,
) -> (EndpointSlice, Endpoints) {
    let (members, ports) = members_of(service, pods);
    (
        slice_of(service, &members, &ports),
        endpoints_of(service, &members, &ports),
    )
}

/// The Pods `service` selects that have an address, sorted by name, with
/// the ports they serve; Pods resolving a named port otherwise than the
/// first one did are left out, as one subset has one set of ports.
fn members_of<'a>(
    service: &Service,
    pods: impl Iterator<Item = &'a Pod>,
) -> (Vec<(&'a Pod, String)>, Vec<ResolvedPort>) {
    let selector = selector(service).cloned().unwrap_or_default();
    let service_ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let mut ports: Option<Vec<ResolvedPort>> = None;
    let mut members = Vec::new();
    for pod in pods {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        if !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            continue;
        }
        let Some(ip) = pod_ip(pod) else { continue };
        let resolved: Option<Vec<ResolvedPort>> = service_ports
            .iter()
            .map(|p| {
                let target = target_port(p.target_port.as_ref(), p.port, pod)?;
                Some((
                    p.name.clone().unwrap_or_default(),
                    target,
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                ))
            })
            .collect();
        let Some(resolved) = resolved else { continue };
        match &ports {
            Some(first) if *first != resolved => continue,
            Some(_) => {}
            None => ports = Some(resolved),
        }
        members.push((pod, ip));
    }
    members.sort_by(|a, b| a.0.metadata.name.cmp(&b.0.metadata.name));
    (members, ports.unwrap_or_default())
}

/// How an endpoint names the Pod behind it.
fn pod_reference(pod: &Pod, namespace: &str) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        name: pod.metadata.name.clone(),
        namespace: Some(namespace.to_string()),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The EndpointSlice, owned by the Service (so it goes with it) and
/// labelled as the endpoint-slice controller labels its own.
fn slice_of(
    service: &Service,
    members: &[(&Pod, String)],
    ports: &[ResolvedPort],
) -> EndpointSlice {
    let (namespace, name) = key_of(&service.metadata);
    let mut labels = BTreeMap::from([
        (SERVICE_NAME_LABEL.to_string(), name.clone()),
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
    ]);
    if is_headless(service) {
        labels.insert(HEADLESS_LABEL.to_string(), String::new());
    }
    let owner = OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: name.clone(),
        uid: service.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    EndpointSlice {
        metadata: ObjectMeta {
            name: Some(slice_name(&name, &namespace)),
            namespace: Some(namespace.clone()),
            labels: Some(labels),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        address_type: "IPv4".into(),
        endpoints: Some(
            members
                .iter()
                .map(|(pod, ip)| {
                    let ready = is_ready(pod);
                    Endpoint {
                        addresses: vec![ip.clone()],
                        conditions: Some(EndpointConditions {
                            ready: Some(ready),
                            serving: Some(ready),
                            terminating: Some(false),
                        }),
                        target_ref: Some(pod_reference(pod, &namespace)),
                        node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                        hostname: pod_hostname(pod, service),
                        ..Endpoint::default()
                    }
                })
                .collect(),
        ),
        ports: Some(
            ports
                .iter()
                .map(|(name, port, protocol)| EndpointPort {
                    name: Some(name.clone()),
                    port: Some(*port),
                    protocol: Some(protocol.clone()),
                    app_protocol: None,
                })
                .collect(),
        ),
    }
}

/// The Endpoints, for clients that still read them: ready and not-ready
/// addresses in one subset, and no subset at all when nothing is selected.
fn endpoints_of(
    service: &Service,
    members: &[(&Pod, String)],
    ports: &[ResolvedPort],
) -> Endpoints {
    let (namespace, name) = key_of(&service.metadata);
    let address = |pod: &Pod, ip: &String| EndpointAddress {
        ip: ip.clone(),
        hostname: pod_hostname(pod, service),
        target_ref: Some(pod_reference(pod, &namespace)),
        ..EndpointAddress::default()
    };
    let mut labels = service.metadata.labels.clone();
    if is_headless(service) {
        labels
            .get_or_insert_with(BTreeMap::new)
            .insert(HEADLESS_LABEL.to_string(), String::new());
    }
    let (ready, not_ready): (Vec<_>, Vec<_>) = members.iter().partition(|(pod, _)| is_ready(pod));
    let subsets = if members.is_empty() {
        None
    } else {
        Some(vec![EndpointSubset {
            addresses: Some(ready.iter().map(|(p, ip)| address(p, ip)).collect())
                .filter(|a: &Vec<_>| !a.is_empty()),
            not_ready_addresses: Some(not_ready.iter().map(|(p, ip)| address(p, ip)).collect())
                .filter(|a: &Vec<_>| !a.is_empty()),
            ports: Some(
                ports
                    .iter()
                    .map(|(name, port, protocol)| CorePort {
                        name: Some(name.clone()).filter(|n| !n.is_empty()),
                        port: *port,
                        protocol: Some(protocol.clone()),
                        app_protocol: None,
                    })
                    .collect(),
            ),
        }])
    };
    Endpoints {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace.clone()),
            labels,
            ..ObjectMeta::default()
        },
        subsets,
    }
}

#[cfg(test)]
mod tests;
