//! The StatefulSet controller: each StatefulSet gets Pods named
//! `<set>-<ordinal>`, created one at a time in ordinal order (each once
//! the one before is running and ready) and removed from the highest
//! ordinal down, unless `podManagementPolicy: Parallel` says otherwise. A
//! Pod keeps its name for life: one deleted is made again under the same
//! name once its deletion is through, and the kubelet gives it the same
//! address. Each Pod has `spec.hostname` (its name) and `spec.subdomain`
//! (the set's `serviceName`), so the set's headless Service lists it under
//! its hostname and `<pod>.<service>.<namespace>.svc...` names it alone.
//! A template change replaces outdated Pods from the highest ordinal down,
//! one at a time, each once every Pod is ready.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::json;
use strait_api::key::{Key, key_of};
use strait_api::pod::{
    CONTROLLER_REVISION_HASH, POD_INDEX, STATEFULSET_POD_NAME, controller_of, is_ready,
};
use strait_store::{ClusterStore, Event, MemoryStore, StoreError};

use super::{Controller, STATEFUL_SET};
use crate::naming;

/// One Pod of a set, as far as the next step depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    /// Running, and ready if it has readiness to report.
    pub(crate) ready: bool,
    /// Made from the set's current template.
    pub(crate) current: bool,
    /// Deleted, its deletion not yet seen through: its name is not free.
    pub(crate) terminating: bool,
}

/// How a set wants its Pods managed, from its spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `spec.replicas`.
    pub(crate) replicas: u32,
    /// `podManagementPolicy: Parallel`: every Pod is created or removed at
    /// once instead of one at a time, in order.
    pub(crate) parallel: bool,
    /// `updateStrategy: OnDelete`: outdated Pods are replaced only when
    /// someone deletes them.
    pub(crate) on_delete: bool,
    /// `rollingUpdate.partition`: Pods below this index keep their
    /// template.
    pub(crate) partition: u32,
}

impl Policy {
    fn of(set: &StatefulSet) -> Policy {
        let spec = &set.spec;
        let strategy = spec.update_strategy.as_ref();
        let count = |n: Option<i32>| u32::try_from(n.unwrap_or(0)).unwrap_or(0);
        Policy {
            replicas: u32::try_from(spec.replicas.unwrap_or(1)).unwrap_or(0),
            parallel: spec.pod_management_policy.as_deref() == Some("Parallel"),
            on_delete: strategy.and_then(|s| s.type_.as_deref()) == Some("OnDelete"),
            partition: count(
                strategy
                    .and_then(|s| s.rolling_update.as_ref())
                    .and_then(|r| r.partition),
            ),
        }
    }
}

/// What to do next to one Pod of a set, by its index (0 for the first
/// Pod, whatever `spec.ordinals.start` is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Create(u32),
    Delete(u32),
}

/// The next steps for a set whose Pods are `members` (by index):
///
/// - the missing Pods below `replicas`, in order; with ordered management
///   only the first one, and none while an earlier Pod is not ready;
/// - then the Pods at or above `replicas`, from the highest down; ordered,
///   one at a time and only while every wanted Pod is ready;
/// - then, with a rolling update and nothing else to do, the highest
///   outdated Pod at or above the partition, once every Pod is ready, so
///   it is made again from the current template.
///
/// A terminating Pod holds its name: nothing is created in its place, and
/// under ordered management nothing else moves until it is gone.
pub(crate) fn plan(policy: Policy, members: &BTreeMap<u32, Member>) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut blocked = false;
    for index in 0..policy.replicas {
        match members.get(&index) {
            None => {
                steps.push(Step::Create(index));
                blocked = true;
            }
            Some(member) if member.terminating || !member.ready => blocked = true,
            Some(_) => {}
        }
        if blocked && !policy.parallel {
            break;
        }
    }
    let terminating = members.values().any(|m| m.terminating);
    let condemned: Vec<u32> = members
        .range(policy.replicas..)
        .rev()
        .filter(|(_, m)| !m.terminating)
        .map(|(index, _)| *index)
        .collect();
    if policy.parallel {
        steps.extend(condemned.iter().map(|i| Step::Delete(*i)));
    } else if let Some(highest) = condemned.first() {
        if !blocked && !terminating {
            steps.push(Step::Delete(*highest));
        }
        return steps;
    }
    let settled = steps.is_empty() && !blocked && !terminating;
    let all_ready = members.values().all(|m| m.ready);
    if settled && all_ready && !policy.on_delete {
        let outdated = members
            .range(policy.partition..policy.replicas)
            .rev()
            .find(|(_, m)| !m.current);
        if let Some((index, _)) = outdated {
            steps.push(Step::Delete(*index));
        }
    }
    steps
}

/// The name of the set's Pod at ordinal `ordinal`.
pub(crate) fn pod_name(set: &str, ordinal: u32) -> String {
    format!("{set}-{ordinal}")
}

/// The ordinal in a Pod's name, if it is a name of set `set`'s.
pub(crate) fn ordinal_of(set: &str, pod: &str) -> Option<u32> {
    let digits = pod.strip_prefix(set)?.strip_prefix('-')?;
    let canonical = !digits.is_empty() && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}

/// The revision a template is: `<set>-<hash of the template>`, as
/// `controller-revision-hash` names it.
fn revision_of(set: &StatefulSet, name: &str) -> Option<String> {
    let template = serde_json::to_value(&set.spec.template).ok()?;
    Some(format!("{name}-{}", naming::template_hash(&template)))
}

/// The first ordinal (`spec.ordinals.start`, 0 unless set).
fn start_of(set: &StatefulSet) -> u32 {
    set.spec
        .ordinals
        .as_ref()
        .and_then(|o| o.start)
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0)
}

impl Controller {
    /// Takes one event of the StatefulSets watch.
    pub(super) fn take_stateful_set(&mut self, event: Event<StatefulSet>) {
        self.synced[3] |= matches!(event, Event::Reset(_));
        match event {
            Event::Apply(set) => {
                self.stateful_sets.insert(key_of(&set.metadata), set);
            }
            Event::Delete(set) => {
                let key = key_of(&set.metadata);
                self.stateful_sets.remove(&key);
                self.set_statuses.remove(&key);
            }
            Event::Reset(all) => {
                self.stateful_sets = all.into_iter().map(|s| (key_of(&s.metadata), s)).collect();
                self.set_statuses
                    .retain(|k, _| self.stateful_sets.contains_key(k));
            }
        }
    }

    /// The set's Pods (and those deleted but not yet gone), by index.
    fn members_of(&self, set: &StatefulSet, revision: &str) -> BTreeMap<u32, Member> {
        let (namespace, name) = key_of(&set.metadata);
        let start = start_of(set);
        let index = |pod: &str| ordinal_of(&name, pod)?.checked_sub(start);
        let mut members: BTreeMap<u32, Member> = self
            .pods
            .iter()
            .filter(|((ns, _), pod)| {
                *ns == namespace && controller_of(pod, STATEFUL_SET).as_deref() == Some(&name)
            })
            .filter_map(|((_, pod_name), pod)| {
                let revision_label = pod
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(CONTROLLER_REVISION_HASH));
                let member = Member {
                    ready: is_ready(pod),
                    current: revision_label.map(String::as_str) == Some(revision),
                    terminating: false,
                };
                Some((index(pod_name)?, member))
            })
            .collect();
        for (_, pod_name) in self.deleted.iter().filter(|(ns, _)| *ns == namespace) {
            if let Some(i) = index(pod_name) {
                members.insert(
                    i,
                    Member {
                        ready: false,
                        current: false,
                        terminating: true,
                    },
                );
            }
        }
        members
    }

    /// Takes the next steps for one set and writes its status.
    pub(super) async fn reconcile_stateful_set(&mut self, store: &MemoryStore, set: &StatefulSet) {
        let (namespace, name) = key_of(&set.metadata);
        let Some(revision) = revision_of(set, &name) else {
            tracing::warn!(statefulset = %name, %namespace, "unreadable template");
            return;
        };
        let start = start_of(set);
        let members = self.members_of(set, &revision);
        for step in plan(Policy::of(set), &members) {
            match step {
                Step::Create(index) => {
                    let pod = self.stateful_pod(set, start + index, &revision);
                    self.create(store, pod).await;
                }
                Step::Delete(index) => {
                    let key = (namespace.clone(), pod_name(&name, start + index));
                    self.delete_pod(store, &key).await;
                }
            }
        }
        self.write_set_status(store, set, &revision).await;
    }

    /// The set's Pod at `ordinal`, of the set's current template.
    fn stateful_pod(&self, set: &StatefulSet, ordinal: u32, revision: &str) -> Pod {
        let (namespace, name) = key_of(&set.metadata);
        let pod_name = pod_name(&name, ordinal);
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: STATEFUL_SET.into(),
            name: name.clone(),
            uid: set.metadata.uid.clone().unwrap_or_else(|| name.clone()),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        let labels = [
            (STATEFULSET_POD_NAME.to_string(), pod_name.clone()),
            (CONTROLLER_REVISION_HASH.to_string(), revision.to_string()),
            (POD_INDEX.to_string(), ordinal.to_string()),
        ];
        let mut pod = self.pod_from_template(
            &set.spec.template,
            &namespace,
            pod_name.clone(),
            labels,
            owner,
            (STATEFUL_SET, &name),
        );
        if let Some(spec) = pod.spec.as_mut() {
            spec.hostname = Some(pod_name);
            spec.subdomain = set.spec.service_name.clone().filter(|s| !s.is_empty());
        }
        pod
    }

    /// Writes the set's status as the StatefulSet controller counts it,
    /// so `kubectl get sts` and `kubectl rollout status` read it as usual.
    async fn write_set_status(&mut self, store: &MemoryStore, set: &StatefulSet, revision: &str) {
        let key = key_of(&set.metadata);
        let status = set_status(set, self.set_pods(&key), revision);
        if self.set_statuses.get(&key) == Some(&status) {
            return;
        }
        match store
            .patch_status::<StatefulSet>(&key.0, &key.1, status.clone())
            .await
        {
            Ok(_) => {
                self.set_statuses.insert(key, status);
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(err) => {
                tracing::warn!(statefulset = %key.1, namespace = %key.0, "cannot write status: {err}")
            }
        }
    }

    fn set_pods(&self, key: &Key) -> Vec<&Pod> {
        self.pods
            .iter()
            .filter(|((ns, _), pod)| {
                *ns == key.0 && controller_of(pod, STATEFUL_SET).as_deref() == Some(key.1.as_str())
            })
            .map(|(_, pod)| pod)
            .collect()
    }
}

/// A StatefulSet's status over its Pods: how many there are, are ready and
/// are of the current revision (`updateRevision`); `currentRevision` is
/// the outdated Pods' revision while a rolling update runs, then the
/// current one.
pub(crate) fn set_status(set: &StatefulSet, pods: Vec<&Pod>, revision: &str) -> serde_json::Value {
    let revision_of = |pod: &Pod| {
        pod.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(CONTROLLER_REVISION_HASH))
            .cloned()
            .unwrap_or_default()
    };
    let updated = pods.iter().filter(|p| revision_of(p) == revision).count();
    let current_revision = pods
        .iter()
        .map(|p| revision_of(p))
        .find(|r| r != revision)
        .unwrap_or_else(|| revision.to_string());
    let current = pods
        .iter()
        .filter(|p| revision_of(p) == current_revision)
        .count();
    let ready = pods.iter().filter(|p| is_ready(p)).count();
    json!({
        "observedGeneration": set.metadata.generation.unwrap_or(1),
        "replicas": pods.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "currentRevision": current_revision,
        "updateRevision": revision,
        "collisionCount": 0,
    })
}

#[cfg(test)]
mod tests;
