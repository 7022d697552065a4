//! The Deployment controller (with the ReplicaSet controller folded in)
//! and the StatefulSet controller, over one view of the store: each
//! Deployment gets `replicas` Pods of its current template, named and
//! labelled as the ReplicaSet controller names them, and injected with a
//! proxy where `linkerd.io/inject` asks for one. A template change rolls:
//! Pods of the new template are created, and old ones are deleted as new
//! ones become ready. StatefulSets get Pods of stable names, made from
//! the same template machinery ([`statefulsets`]).

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::json;
use strait_api::key::{Key, key_of};
use strait_api::pod::{POD_TEMPLATE_HASH, controller_of, deployment_of, is_ready as pod_ready};
use strait_sidecar::ProxyContainer;
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, WatchParams};

use crate::naming;
use crate::{FIELD_MANAGER, inject};

mod statefulsets;

enum Input {
    Deployment(Event<Deployment>),
    StatefulSet(Box<Event<StatefulSet>>),
    Pod(Event<Pod>),
    Namespace(Event<Namespace>),
}

/// The kind of the StatefulSet controller's Pods' owner.
const STATEFUL_SET: &str = "StatefulSet";

/// Whether this controller made `pod`: a Deployment's (through its
/// ReplicaSet) or a StatefulSet's.
fn owned(pod: &Pod) -> bool {
    deployment_of(pod).is_some() || controller_of(pod, STATEFUL_SET).is_some()
}

/// Keeps every Deployment's and StatefulSet's Pods as they ask until the
/// store's watches end; the Pods that ask for a proxy get `proxy`.
pub(crate) async fn run(store: MemoryStore, control_plane_ns: String, proxy: ProxyContainer) {
    let deployments: BoxStream<'static, Input> = store
        .watch::<Deployment>(WatchParams::all())
        .filter_map(|e| async move { e.ok().map(Input::Deployment) })
        .boxed();
    let pods: BoxStream<'static, Input> = store
        .watch::<Pod>(WatchParams::all())
        .filter_map(|e| async move { e.ok().map(Input::Pod) })
        .boxed();
    let namespaces: BoxStream<'static, Input> = store
        .watch::<Namespace>(WatchParams::all())
        .filter_map(|e| async move { e.ok().map(Input::Namespace) })
        .boxed();
    let stateful_sets: BoxStream<'static, Input> = store
        .watch::<StatefulSet>(WatchParams::all())
        .filter_map(|e| async move { e.ok().map(|e| Input::StatefulSet(Box::new(e))) })
        .boxed();
    let mut inputs = stream::select_all([deployments, pods, namespaces, stateful_sets]);
    let mut state = Controller {
        control_plane_ns,
        proxy,
        deployments: BTreeMap::new(),
        stateful_sets: BTreeMap::new(),
        namespaces: BTreeMap::new(),
        pods: BTreeMap::new(),
        deleted: BTreeSet::new(),
        statuses: BTreeMap::new(),
        set_statuses: BTreeMap::new(),
        synced: [false; 4],
    };
    while let Some(input) = inputs.next().await {
        state.take(input);
        while let Some(Some(input)) = futures::FutureExt::now_or_never(inputs.next()) {
            state.take(input);
        }
        if state.synced == [true; 4] {
            state.reconcile_all(&store).await;
        }
    }
}

struct Controller {
    control_plane_ns: String,
    /// The proxy container injected Pods get.
    proxy: ProxyContainer,
    deployments: BTreeMap<Key, Deployment>,
    stateful_sets: BTreeMap<Key, StatefulSet>,
    /// Namespaces' annotations, for injection.
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Pods made for Deployments (those with a ReplicaSet owner) and
    /// StatefulSets.
    pods: BTreeMap<Key, Pod>,
    /// Pods deleted whose deletion the watch has not reported yet: a late
    /// event about them must not bring them back.
    deleted: BTreeSet<Key>,
    /// Deployment statuses last written.
    statuses: BTreeMap<Key, serde_json::Value>,
    /// StatefulSet statuses last written.
    set_statuses: BTreeMap<Key, serde_json::Value>,
    /// Whether each watch has delivered its first listing; nothing is
    /// deleted as orphaned before all four have.
    synced: [bool; 4],
}

impl Controller {
    fn take(&mut self, input: Input) {
        match input {
            Input::Deployment(event) => {
                self.synced[0] |= matches!(event, Event::Reset(_));
                match event {
                    Event::Apply(d) => {
                        self.deployments.insert(key_of(&d.metadata), d);
                    }
                    Event::Delete(d) => {
                        let key = key_of(&d.metadata);
                        self.deployments.remove(&key);
                        self.statuses.remove(&key);
                    }
                    Event::Reset(all) => {
                        self.deployments =
                            all.into_iter().map(|d| (key_of(&d.metadata), d)).collect();
                        self.statuses
                            .retain(|k, _| self.deployments.contains_key(k));
                    }
                }
            }
            Input::StatefulSet(event) => self.take_stateful_set(*event),
            Input::Pod(event) => {
                self.synced[1] |= matches!(event, Event::Reset(_));
                match event {
                    Event::Apply(pod) => {
                        let key = key_of(&pod.metadata);
                        if owned(&pod) && !self.deleted.contains(&key) {
                            self.pods.insert(key, pod);
                        }
                    }
                    Event::Delete(pod) => {
                        let key = key_of(&pod.metadata);
                        self.deleted.remove(&key);
                        self.pods.remove(&key);
                    }
                    Event::Reset(all) => {
                        let present: BTreeSet<Key> =
                            all.iter().map(|p| key_of(&p.metadata)).collect();
                        self.deleted.retain(|k| present.contains(k));
                        self.pods = all
                            .into_iter()
                            .filter(owned)
                            .map(|p| (key_of(&p.metadata), p))
                            .filter(|(k, _)| !self.deleted.contains(k))
                            .collect();
                    }
                }
            }
            Input::Namespace(event) => {
                self.synced[2] |= matches!(event, Event::Reset(_));
                let entry = |ns: Namespace| {
                    (
                        ns.metadata.name.unwrap_or_default(),
                        ns.metadata.annotations.unwrap_or_default(),
                    )
                };
                match event {
                    Event::Apply(ns) => {
                        let (name, annotations) = entry(ns);
                        self.namespaces.insert(name, annotations);
                    }
                    Event::Delete(ns) => {
                        self.namespaces.remove(&entry(ns).0);
                    }
                    Event::Reset(all) => self.namespaces = all.into_iter().map(entry).collect(),
                }
            }
        }
    }

    async fn reconcile_all(&mut self, store: &MemoryStore) {
        let orphans: Vec<Key> = self
            .pods
            .iter()
            .filter(|(key, pod)| {
                let owner_key = |name: String| (key.0.clone(), name);
                deployment_of(pod).is_some_and(|d| !self.deployments.contains_key(&owner_key(d)))
                    || controller_of(pod, STATEFUL_SET)
                        .is_some_and(|s| !self.stateful_sets.contains_key(&owner_key(s)))
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in orphans {
            self.delete_pod(store, &key).await;
        }
        let deployments: Vec<Deployment> = self.deployments.values().cloned().collect();
        for deployment in deployments {
            self.reconcile(store, &deployment).await;
        }
        let sets: Vec<StatefulSet> = self.stateful_sets.values().cloned().collect();
        for set in sets {
            self.reconcile_stateful_set(store, &set).await;
        }
    }

    async fn reconcile(&mut self, store: &MemoryStore, deployment: &Deployment) {
        let (namespace, name) = key_of(&deployment.metadata);
        let spec = &deployment.spec;
        let replicas = usize::try_from(spec.replicas.unwrap_or(1)).unwrap_or(0);
        let template = match serde_json::to_value(&spec.template) {
            Ok(t) => t,
            Err(err) => {
                tracing::warn!(deployment = %name, %namespace, "unreadable template: {err}");
                return;
            }
        };
        let hash = naming::template_hash(&template);
        let owned: Vec<(Key, bool, bool)> = self
            .pods
            .iter()
            .filter(|((ns, _), pod)| {
                *ns == namespace && deployment_of(pod).as_deref() == Some(name.as_str())
            })
            .map(|(key, pod)| {
                let current = pod
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(POD_TEMPLATE_HASH))
                    == Some(&hash);
                (key.clone(), current, pod_ready(pod))
            })
            .collect();
        let (mut current, mut old): (Vec<_>, Vec<_>) = owned.iter().cloned().partition(|p| p.1);
        // Not-ready Pods go first, then the newest-named.
        let order = |a: &(Key, bool, bool), b: &(Key, bool, bool)| {
            a.2.cmp(&b.2).then_with(|| b.0.cmp(&a.0))
        };
        current.sort_by(order);
        old.sort_by(order);
        for _ in current.len()..replicas {
            self.create_pod(store, deployment, &hash).await;
        }
        let surplus = current.len().saturating_sub(replicas);
        for (key, _, _) in current.iter().take(surplus) {
            self.delete_pod(store, key).await;
        }
        let ready_current = current.iter().skip(surplus).filter(|p| p.2).count();
        // `Recreate` drops the old Pods at once; the default rolls.
        let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
        let keep_old = if recreate {
            0
        } else {
            replicas.saturating_sub(ready_current)
        };
        let drop_old = old.len().saturating_sub(keep_old);
        for (key, _, _) in old.iter().take(drop_old) {
            self.delete_pod(store, key).await;
        }
        self.write_status(store, deployment, &hash).await;
    }

    async fn create_pod(&mut self, store: &MemoryStore, deployment: &Deployment, hash: &str) {
        let (namespace, name) = key_of(&deployment.metadata);
        let replica_set = format!("{name}-{hash}");
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: replica_set.clone(),
            uid: format!(
                "{}-{hash}",
                deployment.metadata.uid.as_deref().unwrap_or(&name)
            ),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        let pod = self.pod_from_template(
            &deployment.spec.template,
            &namespace,
            format!("{replica_set}-{}", naming::random_suffix(5)),
            [(POD_TEMPLATE_HASH.to_string(), hash.to_string())],
            owner,
            ("Deployment", &name),
        );
        self.create(store, pod).await;
    }

    /// A Pod of `template` named `name` in `namespace`, with the template's
    /// labels and `labels`, controlled by `owner`, and injected with a
    /// proxy (labelled with `workload`, its kind and name) where the
    /// template or the namespace asks for one.
    fn pod_from_template(
        &self,
        template: &PodTemplateSpec,
        namespace: &str,
        name: String,
        labels: impl IntoIterator<Item = (String, String)>,
        owner: OwnerReference,
        workload: (&str, &str),
    ) -> Pod {
        let template_meta = template.metadata.clone().unwrap_or_default();
        let mut all_labels = template_meta.labels.clone().unwrap_or_default();
        all_labels.extend(labels);
        let mut pod = Pod {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace.to_string()),
                labels: Some(all_labels),
                annotations: template_meta.annotations.clone(),
                owner_references: Some(vec![owner]),
                ..ObjectMeta::default()
            },
            spec: template.spec.clone(),
            status: None,
        };
        if inject::wants_proxy(
            template_meta.annotations.as_ref(),
            self.namespaces.get(namespace),
        ) {
            inject::inject(
                &mut pod,
                &self.proxy,
                &self.control_plane_ns,
                Some(workload),
            );
        }
        pod
    }

    /// Writes a new Pod and keeps it as this controller's.
    async fn create(&mut self, store: &MemoryStore, pod: Pod) {
        let (namespace, name) = key_of(&pod.metadata);
        match store.apply(&pod, FIELD_MANAGER).await {
            Ok(created) => {
                tracing::debug!(pod = %name, %namespace, "created");
                self.pods.insert(key_of(&created.metadata), created);
            }
            Err(err) => {
                tracing::warn!(pod = %name, %namespace, "cannot create the Pod: {err}");
            }
        }
    }

    async fn delete_pod(&mut self, store: &MemoryStore, key: &Key) {
        self.pods.remove(key);
        match store.delete::<Pod>(&key.0, &key.1).await {
            Ok(()) => {
                self.deleted.insert(key.clone());
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(err) => tracing::warn!(pod = %key.1, namespace = %key.0, "cannot delete: {err}"),
        }
    }

    async fn write_status(&mut self, store: &MemoryStore, deployment: &Deployment, hash: &str) {
        let key = key_of(&deployment.metadata);
        let owned: Vec<&Pod> = self
            .pods
            .iter()
            .filter(|((ns, _), pod)| {
                *ns == key.0 && deployment_of(pod).as_deref() == Some(key.1.as_str())
            })
            .map(|(_, p)| p)
            .collect();
        let updated = owned
            .iter()
            .filter(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(POD_TEMPLATE_HASH))
                    == Some(&hash.to_string())
            })
            .count();
        let ready = owned.iter().filter(|p| pod_ready(p)).count();
        let wanted = deployment.spec.replicas.unwrap_or(1);
        let status = json!({
            "observedGeneration": deployment.metadata.generation.unwrap_or(1),
            "replicas": owned.len(),
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": usize::try_from(wanted).unwrap_or(0).saturating_sub(ready),
        });
        if self.statuses.get(&key) == Some(&status) {
            return;
        }
        match store
            .patch_status::<Deployment>(&key.0, &key.1, status.clone())
            .await
        {
            Ok(_) => {
                self.statuses.insert(key, status);
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(err) => {
                tracing::warn!(deployment = %key.1, namespace = %key.0, "cannot write status: {err}")
            }
        }
    }
}
