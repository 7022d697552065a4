//! Federated Services, as Linkerd 2.17 defines them: every linked cluster's
//! Service that the export plugin makes a member (by default, one matching
//! the Link's `federatedServiceSelector`) joins one Service
//! `<service>-federated` in this cluster, in the member's namespace, which
//! lists it as `<service>@<cluster>` in its
//! `multicluster.linkerd.io/remote-discovery` annotation; this cluster's own
//! Service of that name joins as `multicluster.linkerd.io/local-discovery`
//! ([`local`]). The destination resolves the federated Service to the ready
//! pods of every member.
//!
//! Several writers share one federated Service (each Link's mirror, and the
//! local member's controller), so each changes only its own entry, reading
//! the Service and writing it back under its resourceVersion, again on a
//! conflict; and each watches the federated Services, so that an entry lost
//! to a concurrent create or delete is written again. Its metadata and ports
//! are those of one member, as in Linkerd: the local member, else the member
//! whose Link is oldest. A member whose ports differ is still a member; the
//! difference is reported in the Link's status and as a Warning Event.

pub(crate) mod local;
mod members;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::Service;
use strait_api::key::Key;
use strait_api::labels::{self, RemoteMember};
use strait_api::link::{Link, LinkStatus, reason};
use strait_decisions::export::{FederatedDecision, MirrorExtras};
use strait_decisions::selector::LabelSelector;
use strait_plugin_host::ExportPlugin;
use strait_store::{ClusterStore, Event, EventRecorder, StoreError, WatchParams};

use crate::config::LinkConfig;
use crate::desired::{FIELD_MANAGER, remote_service};
use crate::status::StatusBook;

pub(crate) use members::{Member, Source};

/// How often a write that keeps meeting concurrent changes is tried.
const ATTEMPTS: usize = 8;

/// The federated memberships of one Link's remote Services.
pub(crate) struct Federation {
    /// The plugin's last answer for each remote Service, which stands if a
    /// later call fails.
    decisions: HashMap<Key, FederatedDecision>,
    /// This cluster's federated Services, by (namespace, name).
    services: BTreeMap<Key, Service>,
    /// The Link's `federatedServices` status entries.
    status: StatusBook,
    /// Port conflicts told as Warning Events on the federated Service.
    events: EventRecorder,
    synced: bool,
}

/// What a writer does to a federated Service it read.
pub(crate) enum Change {
    /// Nothing to write.
    Keep,
    /// Write this (with the read's resourceVersion as precondition).
    Write(Box<Service>),
    /// No member is left: delete it.
    Delete,
}

impl Federation {
    /// Starts from the Link's current `federatedServices`, so a restart
    /// rewrites nothing.
    pub(crate) fn new(status: Option<&LinkStatus>, link: &LinkConfig) -> Self {
        Federation {
            decisions: HashMap::new(),
            services: BTreeMap::new(),
            status: StatusBook::from_entries(status.and_then(|s| s.federated_services.clone())),
            events: EventRecorder::new(format!(
                "{}-{}",
                crate::supervisor::EVENT_COMPONENT,
                link.target_cluster_name
            )),
            synced: false,
        }
    }

    /// This cluster's mirror Services, federated ones among them.
    pub(crate) fn watch<L: ClusterStore>(
        local: &L,
    ) -> BoxStream<'static, Result<Event<Service>, StoreError>> {
        local.watch::<Service>(WatchParams::labelled(labels::MIRRORED_SERVICE, "true"))
    }

    /// Whether the federated Services have been read once.
    pub(crate) fn synced(&self) -> bool {
        self.synced
    }

    /// Follows one event of [`Federation::watch`]; returns the remote
    /// Services to reconcile: those whose federated Service changed or went
    /// while they are members, or that it lists.
    pub(crate) fn on_event(&mut self, event: Event<Service>, link: &LinkConfig) -> Vec<Key> {
        self.synced = true;
        let key = |s: &Service| {
            (
                s.metadata.namespace.clone().unwrap_or_default(),
                s.metadata.name.clone().unwrap_or_default(),
            )
        };
        let mut changed: BTreeSet<Key> = BTreeSet::new();
        match event {
            Event::Reset(all) => {
                changed.extend(self.services.keys().cloned());
                self.services = all
                    .into_iter()
                    .filter(members::is_federated)
                    .map(|s| (key(&s), s))
                    .collect();
                changed.extend(self.services.keys().cloned());
            }
            Event::Apply(s) if members::is_federated(&s) => {
                changed.insert(key(&s));
                self.services.insert(key(&s), s);
            }
            Event::Apply(s) | Event::Delete(s) => {
                if self.services.remove(&key(&s)).is_some() || is_federated_name(&key(&s).1) {
                    changed.insert(key(&s));
                }
            }
        }
        changed
            .into_iter()
            .filter_map(|(namespace, name)| {
                let service = name.strip_suffix(labels::FEDERATED_SUFFIX)?.to_string();
                let remote = (namespace, service);
                let member = matches!(
                    self.decisions.get(&remote),
                    Some(FederatedDecision::Member(_))
                );
                let listed = self
                    .services
                    .get(&(remote.0.clone(), labels::federated_service_name(&remote.1)))
                    .is_some_and(|s| members::lists(s, &remote_member(link, &remote.1)));
                (member || listed).then_some(remote)
            })
            .collect()
    }

    /// Brings the membership of remote Service `key` (`None`: it is gone) in
    /// line with the export plugin's decision.
    pub(crate) async fn reconcile<L: ClusterStore>(
        &mut self,
        local: &L,
        link: &LinkConfig,
        plugin: &ExportPlugin,
        key: &Key,
        remote: Option<&Service>,
    ) {
        let member = remote_member(link, &key.1);
        let Some(remote) = remote else {
            self.decisions.remove(key);
            self.leave(local, link, key, &member).await;
            return;
        };
        let seen = remote_service(remote);
        let verdict = plugin.federate(&seen, &link.export, self.decisions.get(key));
        self.decisions.insert(key.clone(), verdict.decision.clone());
        match verdict.decision {
            FederatedDecision::Member(extras) => {
                self.join(local, link, key, remote, &member, &extras).await;
            }
            FederatedDecision::NotMember(why) => {
                self.leave(local, link, key, &member).await;
                // Linkerd reports a headless Service its selector matched.
                let selected = LabelSelector::matches_for_export(
                    link.export.federated_selector.as_ref(),
                    &seen.labels,
                );
                if seen.headless && selected {
                    self.status
                        .set(key, false, reason::INVALID_SERVICE, why, None);
                }
            }
        }
    }

    async fn join<L: ClusterStore>(
        &mut self,
        local: &L,
        link: &LinkConfig,
        key: &Key,
        remote: &Service,
        member: &Member,
        extras: &MirrorExtras,
    ) {
        let name = labels::federated_service_name(&key.1);
        let cached = self.services.get(&(key.0.clone(), name.clone()));
        let older = if cached.is_some_and(|s| needs_ages(s, member)) {
            older_clusters(local, link).await
        } else {
            BTreeSet::new()
        };
        let excludes_label = |k: &str| link.excludes_label(k);
        let excludes_annotation = |k: &str| link.excludes_annotation(k);
        let source = Source {
            service: remote,
            extras,
            excludes_label: &excludes_label,
            excludes_annotation: &excludes_annotation,
        };
        let written = update(local, &key.0, &name, |existing| {
            let is_source = members::is_source(existing, member, |c| older.contains(c));
            let desired = members::joined(existing, &key.0, member, is_source.then_some(&source));
            match existing {
                Some(e) if members::unchanged(e, &desired) => Change::Keep,
                _ => Change::Write(Box::new(desired)),
            }
        })
        .await;
        let local_ref = Some((key.0.clone(), name.clone()));
        match written {
            Ok(Some(federated)) => {
                let conflicts = members::port_conflicts(&federated, remote);
                if conflicts.is_empty() {
                    self.events.forget(&federated, reason::PORT_CONFLICT);
                    self.status
                        .set(key, true, reason::MIRRORED, String::new(), local_ref);
                } else {
                    let message = format!(
                        "member {member} of {}/{name}: {}",
                        key.0,
                        conflicts.join("; ")
                    );
                    if self
                        .events
                        .warn(local, &federated, reason::PORT_CONFLICT, &message)
                        .await
                    {
                        tracing::warn!(link = %link.name, "{message}");
                    }
                    self.status
                        .set(key, true, reason::PORT_CONFLICT, message, local_ref);
                }
                self.services.insert((key.0.clone(), name), federated);
            }
            Ok(None) => {}
            Err(StoreError::NotFound { what }) if what.starts_with("namespaces") => {
                self.status.set(
                    key,
                    false,
                    reason::MISSING_NAMESPACE,
                    format!("namespace {} does not exist in this cluster; the federated service is created when it does", key.0),
                    None,
                );
            }
            Err(err) => {
                tracing::warn!(link = %link.name, "cannot write federated service {}/{name}: {err}", key.0);
                self.status
                    .set(key, false, reason::ERROR, err.to_string(), None);
            }
        }
    }

    async fn leave<L: ClusterStore>(
        &mut self,
        local: &L,
        link: &LinkConfig,
        key: &Key,
        member: &Member,
    ) {
        self.status.remove(key);
        let name = labels::federated_service_name(&key.1);
        let listed = self
            .services
            .get(&(key.0.clone(), name.clone()))
            .is_some_and(|s| members::lists(s, member));
        if !listed {
            return;
        }
        if let Err(err) = leave(local, &key.0, &name, member).await {
            tracing::warn!(link = %link.name, "cannot leave federated service {}/{name}: {err}", key.0);
        }
    }

    /// Leaves the federated Services that list a remote Service of this
    /// Link's cluster that no longer exists (gone while nothing watched).
    pub(crate) async fn collect_orphans<L: ClusterStore>(
        &mut self,
        local: &L,
        link: &LinkConfig,
        remote_services: &BTreeMap<Key, Service>,
    ) {
        let orphans: Vec<Key> = self
            .services
            .values()
            .flat_map(|s| {
                let namespace = s.metadata.namespace.clone().unwrap_or_default();
                members::members_of(s)
                    .1
                    .into_iter()
                    .filter(|m| m.cluster == link.target_cluster_name)
                    .map(move |m| (namespace.clone(), m.service))
            })
            .filter(|k| !remote_services.contains_key(k))
            .collect();
        for key in orphans {
            tracing::info!(link = %link.name, "leaving federated service for {}/{}, gone from {}", key.0, key.1, link.target_cluster_name);
            self.decisions.remove(&key);
            let member = remote_member(link, &key.1);
            self.leave(local, link, &key, &member).await;
        }
    }

    /// Writes the Link's `federatedServices` if they changed.
    pub(crate) async fn flush_status<L: ClusterStore>(&mut self, local: &L, link: &LinkConfig) {
        let Some(entries) = self.status.pending() else {
            return;
        };
        let patch = serde_json::json!({ "federatedServices": entries });
        match local
            .patch_status::<Link>(&link.namespace, &link.name, patch)
            .await
        {
            Ok(_) => self.status.written(entries),
            Err(err) => tracing::warn!(link = %link.name, "cannot write link status: {err}"),
        }
    }
}

/// The member a remote Service named `service` is, through `link`.
fn remote_member(link: &LinkConfig, service: &str) -> Member {
    Member::Remote(RemoteMember {
        service: service.to_string(),
        cluster: link.target_cluster_name.clone(),
    })
}

fn is_federated_name(name: &str) -> bool {
    name.ends_with(labels::FEDERATED_SUFFIX)
}

/// Whether deciding the metadata source needs the Links' ages: another
/// linked cluster is a member and no local member settles it.
fn needs_ages(federated: &Service, member: &Member) -> bool {
    let (local, remote) = members::members_of(federated);
    let Member::Remote(me) = member else {
        return false;
    };
    local.is_none() && remote.iter().any(|m| m.cluster != me.cluster)
}

/// The target clusters of the Links older than `link` (by creation time,
/// then cluster name, so that Links made in the same second still agree).
async fn older_clusters<L: ClusterStore>(local: &L, link: &LinkConfig) -> BTreeSet<String> {
    let mut links = local.watch::<Link>(WatchParams {
        namespace: Some(link.namespace.clone()),
        ..WatchParams::all()
    });
    let Some(Ok(Event::Reset(all))) = links.next().await else {
        return BTreeSet::new();
    };
    let rank = |l: &Link| {
        (
            l.metadata.creation_timestamp.as_ref().map(|t| t.0),
            l.spec.target_cluster_name.clone().unwrap_or_default(),
        )
    };
    let Some(mine) = all
        .iter()
        .find(|l| l.metadata.name.as_deref() == Some(link.name.as_str()))
        .map(rank)
    else {
        return BTreeSet::new();
    };
    all.iter()
        .filter(|l| rank(l) < mine)
        .filter_map(|l| l.spec.target_cluster_name.clone())
        .collect()
}

/// Reads federated Service `namespace/name`, lets `change` decide, and
/// writes that under the read's resourceVersion, reading again after a
/// conflict. Returns the Service as stored (`None`: absent or deleted). A
/// Service of that name the mirror did not make is left alone, as an error.
pub(crate) async fn update<L: ClusterStore>(
    local: &L,
    namespace: &str,
    name: &str,
    mut change: impl FnMut(Option<&Service>) -> Change,
) -> Result<Option<Service>, StoreError> {
    for _ in 0..ATTEMPTS {
        let existing: Option<Service> = local.get(namespace, name).await?;
        if let Some(e) = &existing
            && !is_ours(e)
        {
            return Err(StoreError::AlreadyExists {
                what: format!(
                    "service {namespace}/{name}, which is not a federated service (no {}=true label), so it",
                    labels::MIRRORED_SERVICE
                ),
            });
        }
        match change(existing.as_ref()) {
            Change::Keep => return Ok(existing),
            Change::Write(desired) => match local.apply(desired.as_ref(), FIELD_MANAGER).await {
                Ok(stored) => return Ok(Some(stored)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(err) => return Err(err),
            },
            Change::Delete => {
                return match local.delete::<Service>(namespace, name).await {
                    Ok(()) | Err(StoreError::NotFound { .. }) => Ok(None),
                    Err(err) => Err(err),
                };
            }
        }
    }
    Err(StoreError::Conflict {
        what: format!("service {namespace}/{name}"),
        reason: format!("changed by another writer on each of {ATTEMPTS} attempts"),
    })
}

/// Removes `member` from federated Service `namespace/name`, deleting the
/// Service when it was the last.
pub(crate) async fn leave<L: ClusterStore>(
    local: &L,
    namespace: &str,
    name: &str,
    member: &Member,
) -> Result<(), StoreError> {
    update(local, namespace, name, |existing| match existing {
        Some(e) if members::lists(e, member) => match members::left(e, member) {
            Some(rest) => Change::Write(Box::new(rest)),
            None => Change::Delete,
        },
        _ => Change::Keep,
    })
    .await
    .map(drop)
}

/// Removes every member of linked cluster `cluster` from this cluster's
/// federated Services: its Link was deleted.
pub async fn leave_cluster<L: ClusterStore>(local: &L, cluster: &str) {
    let mut watch = Federation::watch(local);
    let Some(Ok(Event::Reset(all))) = watch.next().await else {
        tracing::warn!(
            cluster,
            "cannot list federated services to remove the cluster's members"
        );
        return;
    };
    for service in all.iter().filter(|s| members::is_federated(s)) {
        let namespace = service.metadata.namespace.clone().unwrap_or_default();
        let name = service.metadata.name.clone().unwrap_or_default();
        for member in members::members_of(service)
            .1
            .into_iter()
            .filter(|m| m.cluster == cluster)
        {
            tracing::info!(cluster, "link deleted: {member} leaves {namespace}/{name}");
            if let Err(err) = leave(local, &namespace, &name, &Member::Remote(member)).await {
                tracing::warn!(
                    cluster,
                    "cannot leave federated service {namespace}/{name}: {err}"
                );
            }
        }
    }
}

/// Whether a Service is one the mirror made (and so may change or delete).
fn is_ours(service: &Service) -> bool {
    service
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::MIRRORED_SERVICE))
        .map(String::as_str)
        == Some("true")
}

#[cfg(test)]
mod tests;
