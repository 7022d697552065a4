//! The local member of federated Services: this cluster's own Service
//! labelled `mirror.linkerd.io/federated=member` (Linkerd's default
//! federated selector) joins `<service>-federated` as its
//! `multicluster.linkerd.io/local-discovery`, and, as in Linkerd, gives it its
//! metadata and ports. Linkerd runs this as the "local service mirror"; strait
//! runs it beside each Link's mirror (writers agree, so several Links make
//! no difference).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use strait_api::key::{Key, key_of};
use strait_api::labels;
use strait_decisions::export::MirrorExtras;
use strait_decisions::selector::LabelSelector;
use strait_store::{ClusterStore, Event, WatchParams};
use tokio::sync::watch;

use super::members::{self, Member, Source};
use super::{Change, leave, update};
use crate::config::convert_selector;

/// Wait before watching the cluster's Services again after the watch ended.
const REWATCH: Duration = Duration::from_secs(1);

/// Keeps the local members of this cluster's federated Services until `stop`
/// is set.
pub async fn run_local_federation<L: ClusterStore>(local: L, mut stop: watch::Receiver<bool>) {
    let selector = match convert_selector(&labels::default_federated_service_selector()) {
        Ok(selector) => selector,
        Err((_, err)) => {
            tracing::error!("the default federated selector is malformed: {err}");
            return;
        }
    };
    let mut services: BTreeMap<Key, Service> = BTreeMap::new();
    let mut feed = local.watch::<Service>(WatchParams::all());
    loop {
        let event = tokio::select! {
            _ = stop.changed() => return,
            event = feed.next() => event,
        };
        let changed = match event {
            Some(Ok(event)) => follow(&mut services, event),
            Some(Err(err)) => {
                tracing::warn!("local services watch failed: {err}");
                continue;
            }
            None => {
                tokio::time::sleep(REWATCH).await;
                feed = local.watch::<Service>(WatchParams::all());
                continue;
            }
        };
        for key in changed {
            reconcile(&local, &selector, &services, &key).await;
        }
    }
}

/// Applies one event; returns the candidate members it may concern: a
/// changed Service, or the member named by a changed federated Service.
fn follow(services: &mut BTreeMap<Key, Service>, event: Event<Service>) -> BTreeSet<Key> {
    let mut touched = BTreeSet::new();
    match event {
        Event::Reset(all) => {
            touched.extend(services.keys().cloned());
            *services = all.into_iter().map(|s| (key_of(&s.metadata), s)).collect();
            touched.extend(services.keys().cloned());
        }
        Event::Apply(s) => {
            touched.insert(key_of(&s.metadata));
            services.insert(key_of(&s.metadata), s);
        }
        Event::Delete(s) => {
            touched.insert(key_of(&s.metadata));
            services.remove(&key_of(&s.metadata));
        }
    }
    touched
        .into_iter()
        .map(
            |(namespace, name)| match name.strip_suffix(labels::FEDERATED_SUFFIX) {
                Some(member) => (namespace, member.to_string()),
                None => (namespace, name),
            },
        )
        .collect()
}

/// Whether a Service of this cluster is a local member: selected, not
/// headless, and not itself made by a mirror.
pub(crate) fn is_local_member(service: &Service, selector: &LabelSelector) -> bool {
    let labels_map = service.metadata.labels.clone().unwrap_or_default();
    let mirrored = labels_map.get(labels::MIRRORED_SERVICE).map(String::as_str) == Some("true");
    let headless = service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None");
    !mirrored && !headless && LabelSelector::matches_for_export(Some(selector), &labels_map)
}

async fn reconcile<L: ClusterStore>(
    local: &L,
    selector: &LabelSelector,
    services: &BTreeMap<Key, Service>,
    key: &Key,
) {
    let member = Member::Local(key.1.clone());
    let name = labels::federated_service_name(&key.1);
    let federated = services.get(&(key.0.clone(), name.clone()));
    let result = match services.get(key).filter(|s| is_local_member(s, selector)) {
        Some(service) => {
            let extras = MirrorExtras::default();
            let excludes_label = |k: &str| k.starts_with("mirror.linkerd.io/");
            let excludes_annotation = |k: &str| {
                k.starts_with("mirror.linkerd.io/")
                    || k == "kubectl.kubernetes.io/last-applied-configuration"
            };
            let source = Source {
                service,
                extras: &extras,
                excludes_label: &excludes_label,
                excludes_annotation: &excludes_annotation,
            };
            let current = federated.is_some_and(|f| {
                members::unchanged(f, &members::joined(Some(f), &key.0, &member, Some(&source)))
            });
            if current {
                return;
            }
            update(local, &key.0, &name, |existing| {
                let desired = members::joined(existing, &key.0, &member, Some(&source));
                match existing {
                    Some(e) if members::unchanged(e, &desired) => Change::Keep,
                    _ => Change::Write(Box::new(desired)),
                }
            })
            .await
            .map(drop)
        }
        None if federated.is_some_and(|f| members::lists(f, &member)) => {
            leave(local, &key.0, &name, &member).await
        }
        None => return,
    };
    if let Err(err) = result {
        tracing::warn!(
            "cannot update federated service {}/{name} for its local member: {err}",
            key.0
        );
    }
}
