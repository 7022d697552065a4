//! The Link status entries the mirror keeps: one per remote Service it was
//! asked to mirror, written only when something changed.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use strait_api::link::{
    ConditionStatus, LinkCondition, LinkStatus, MIRRORED_CONDITION, ObjectRef, ServiceStatus,
};

/// The `controllerName` of the entries this mirror writes.
pub(crate) const CONTROLLER_NAME: &str = "strait.io/service-mirror";

/// Entries by remote (namespace, name).
#[derive(Default)]
pub(crate) struct StatusBook {
    entries: BTreeMap<(String, String), ServiceStatus>,
    /// Entries of other controllers, kept as found.
    others: Vec<ServiceStatus>,
    /// What the Link's status holds now, to skip writes that change nothing.
    written: Option<Vec<ServiceStatus>>,
}

impl StatusBook {
    /// Starts from the Link's current status, so a restart rewrites nothing
    /// and keeps transition times.
    pub(crate) fn from_status(status: Option<&LinkStatus>) -> Self {
        Self::from_entries(status.and_then(|s| s.mirror_services.clone()))
    }

    /// Starts from one list of the Link's status (`mirrorServices` or
    /// `federatedServices`).
    pub(crate) fn from_entries(entries: Option<Vec<ServiceStatus>>) -> Self {
        let all = entries.unwrap_or_default();
        let (ours, others): (Vec<_>, Vec<_>) = all
            .into_iter()
            .partition(|e| e.controller_name == CONTROLLER_NAME);
        StatusBook {
            entries: ours
                .iter()
                .map(|e| {
                    (
                        (e.remote_ref.namespace.clone(), e.remote_ref.name.clone()),
                        e.clone(),
                    )
                })
                .collect(),
            written: Some(others.iter().chain(ours.iter()).cloned().collect()),
            others,
        }
    }

    /// Records the outcome for one remote Service.
    pub(crate) fn set(
        &mut self,
        remote: &(String, String),
        mirrored: bool,
        reason: &str,
        message: String,
        local: Option<(String, String)>,
    ) {
        let status = if mirrored {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        };
        let previous = self
            .entries
            .get(remote)
            .and_then(|e| e.conditions.as_ref())
            .and_then(|c| c.first());
        let last_transition_time = match previous {
            Some(p) if p.status == status && p.reason == reason => p.last_transition_time.clone(),
            _ => Time(k8s_openapi::jiff::Timestamp::now()),
        };
        let entry = ServiceStatus {
            controller_name: CONTROLLER_NAME.to_string(),
            remote_ref: ObjectRef {
                group: None,
                kind: Some("Service".into()),
                name: remote.1.clone(),
                namespace: remote.0.clone(),
            },
            conditions: Some(vec![LinkCondition {
                type_: MIRRORED_CONDITION.to_string(),
                status,
                reason: reason.to_string(),
                message,
                last_transition_time,
                local_ref: local.map(|(namespace, name)| ObjectRef {
                    group: None,
                    kind: Some("Service".into()),
                    name,
                    namespace,
                }),
            }]),
        };
        self.entries.insert(remote.clone(), entry);
    }

    /// Forgets a remote Service that is no longer exported or no longer exists.
    pub(crate) fn remove(&mut self, remote: &(String, String)) {
        self.entries.remove(remote);
    }

    /// The `mirrorServices` to write, if they differ from what was written.
    pub(crate) fn pending(&self) -> Option<Vec<ServiceStatus>> {
        let all: Vec<ServiceStatus> = self
            .others
            .iter()
            .chain(self.entries.values())
            .cloned()
            .collect();
        (self.written.as_ref() != Some(&all)).then_some(all)
    }

    /// Notes that `entries` were written.
    pub(crate) fn written(&mut self, entries: Vec<ServiceStatus>) {
        self.written = Some(entries);
    }
}
