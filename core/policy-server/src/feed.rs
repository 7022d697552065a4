//! Keeps the inbound policy index in step with the cluster store.
//!
//! One watch per kind the index reads; each event is applied under the
//! index lock and the index generation is then published, so readers wait
//! on a channel instead of polling the index.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event as K8sEvent, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use strait_api::policy::{
    AuthorizationPolicy, MeshTlsAuthentication, NetworkAuthentication, Server, ServerAuthorization,
};
use strait_policy::{Ignored, Index};
use strait_store::{ClusterStore, Event, StoredObject, WatchParams};
use tokio::sync::watch;

/// How long a failed or ended watch waits before watching again: long
/// enough not to spin against a failing API server, short enough that a
/// restart is not noticed by proxies.
pub const REWATCH_BACKOFF: Duration = Duration::from_secs(1);

/// A kind the index is fed with, and the index calls for each kind of event,
/// so one watch loop serves every kind.
trait Indexed: StoredObject {
    /// The kind's name, for logs.
    const KIND: &'static str;
    fn apply(index: &mut Index, object: &Self);
    fn delete(index: &mut Index, namespace: &str, name: &str);
    fn reset(index: &mut Index, objects: Vec<Self>);
}

/// Implements [`Indexed`] from the index's three methods for a kind.
macro_rules! indexed {
    ($ty:ty, $kind:literal, $apply:ident, $delete:ident, $reset:ident) => {
        impl Indexed for $ty {
            const KIND: &'static str = $kind;
            fn apply(index: &mut Index, object: &Self) {
                index.$apply(object);
            }
            fn delete(index: &mut Index, namespace: &str, name: &str) {
                index.$delete(namespace, name);
            }
            fn reset(index: &mut Index, objects: Vec<Self>) {
                index.$reset(objects);
            }
        }
    };
}

indexed!(Pod, "Pod", apply_pod, delete_pod, reset_pods);
indexed!(Server, "Server", apply_server, delete_server, reset_servers);
indexed!(
    AuthorizationPolicy,
    "AuthorizationPolicy",
    apply_authorization_policy,
    delete_authorization_policy,
    reset_authorization_policies
);
indexed!(
    MeshTlsAuthentication,
    "MeshTLSAuthentication",
    apply_meshtls_authentication,
    delete_meshtls_authentication,
    reset_meshtls_authentications
);
indexed!(
    NetworkAuthentication,
    "NetworkAuthentication",
    apply_network_authentication,
    delete_network_authentication,
    reset_network_authentications
);
indexed!(
    ServerAuthorization,
    "ServerAuthorization",
    apply_server_authorization,
    delete_server_authorization,
    reset_server_authorizations
);

/// The index and the channel its generation is published on, shared by the
/// watch loops of every kind.
#[derive(Clone)]
struct Target {
    index: Arc<Mutex<Index>>,
    changes: Arc<watch::Sender<u64>>,
    /// The resources already reported as ignored, so each is logged once
    /// when it becomes ignored rather than on every event.
    reported: Arc<Mutex<Vec<Ignored>>>,
    /// The policy kinds whose first listing has arrived: until all have,
    /// a policy may look ignored only because its authentication's kind
    /// was not listed yet, which is no news to log.
    listed: Arc<Mutex<BTreeSet<&'static str>>>,
}

/// How many policy kinds (every watched kind but Pod) are listed before
/// ignored resources are reported.
const POLICY_KINDS: usize = 5;

impl Target {
    /// Applies one event, then publishes the generation if it moved, so
    /// watchers wake only for real changes. Returns the resources this
    /// event made ignored, to be recorded as Events.
    fn apply<K: Indexed>(&self, event: Event<K>) -> Vec<Ignored> {
        let mut newly = Vec::new();
        let generation = {
            let mut index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
            match event {
                Event::Reset(objects) => {
                    self.listed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(K::KIND);
                    K::reset(&mut index, objects)
                }
                Event::Apply(object) => K::apply(&mut index, &object),
                Event::Delete(object) => {
                    let meta = object.meta();
                    let namespace = meta.namespace.as_deref().unwrap_or_default();
                    let name = meta.name.as_deref().unwrap_or_default();
                    K::delete(&mut index, namespace, name);
                }
            }
            // Whether a resource is ignored depends on policy resources
            // only, so a Pod event (the frequent kind) skips the check, as
            // does every event before each policy kind has been listed.
            let listed = self
                .listed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .filter(|kind| **kind != "Pod")
                .count();
            if K::KIND != "Pod" && listed >= POLICY_KINDS {
                newly = self.report_ignored(&index);
            }
            index.generation()
        };
        self.changes.send_if_modified(|published| {
            let moved = *published != generation;
            *published = generation;
            moved
        });
        newly
    }

    /// Logs, once each, the resources the index newly ignores, and returns
    /// them.
    fn report_ignored(&self, index: &Index) -> Vec<Ignored> {
        let ignored = index.ignored();
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        let newly: Vec<Ignored> = newly_ignored(&reported, &ignored)
            .into_iter()
            .cloned()
            .collect();
        for resource in &newly {
            tracing::warn!(
                "{} {}/{} is ignored: {}",
                resource.kind,
                resource.namespace,
                resource.name,
                resource.reason
            );
        }
        *reported = ignored;
        newly
    }
}

/// Watches Pods, Servers, AuthorizationPolicies, MeshTLSAuthentications,
/// NetworkAuthentications and ServerAuthorizations in `store` and applies
/// every event to `index`, publishing the index generation on `changes`
/// after each one.
///
/// Never returns: a watch that fails or ends is logged and restarted after
/// [`REWATCH_BACKOFF`] (its first event is a `Reset`, so nothing is lost).
/// Run it in its own task and abort the task to stop feeding.
pub async fn feed<S: ClusterStore>(
    store: S,
    index: Arc<Mutex<Index>>,
    changes: watch::Sender<u64>,
) {
    let target = Target {
        index,
        changes: Arc::new(changes),
        reported: Arc::new(Mutex::new(Vec::new())),
        listed: Arc::new(Mutex::new(BTreeSet::new())),
    };
    tokio::join!(
        follow::<S, Pod>(store.clone(), target.clone()),
        follow::<S, Server>(store.clone(), target.clone()),
        follow::<S, AuthorizationPolicy>(store.clone(), target.clone()),
        follow::<S, MeshTlsAuthentication>(store.clone(), target.clone()),
        follow::<S, NetworkAuthentication>(store.clone(), target.clone()),
        follow::<S, ServerAuthorization>(store, target),
    );
}

/// One kind's watch loop: apply events until the watch fails or ends, wait,
/// watch again.
async fn follow<S: ClusterStore, K: Indexed>(store: S, target: Target) {
    loop {
        let mut events = store.watch::<K>(WatchParams::all());
        loop {
            match events.next().await {
                Some(Ok(event)) => {
                    for ignored in target.apply(event) {
                        record_ignored(&store, &ignored).await;
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(kind = K::KIND, %error, "policy watch failed; watching again");
                    break;
                }
                None => {
                    tracing::info!(kind = K::KIND, "policy watch ended; watching again");
                    break;
                }
            }
        }
        tokio::time::sleep(REWATCH_BACKOFF).await;
    }
}

/// The reason of the Event an ignored resource gets.
pub const IGNORED_REASON: &str = "Ignored";

/// Tells the resource's owner, where `kubectl describe` and `kubectl get
/// events` look, why it changes nothing: a Warning Event on it, one per
/// resource and reason. Best effort: the log says it too.
async fn record_ignored<S: ClusterStore>(store: &S, ignored: &Ignored) {
    let version = match ignored.kind {
        "Server" => "v1beta3",
        "ServerAuthorization" => "v1beta1",
        _ => "v1alpha1",
    };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let event = K8sEvent {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{}.ignored",
                ignored.name,
                ignored.kind.to_ascii_lowercase()
            )),
            namespace: Some(ignored.namespace.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(format!("{}/{version}", strait_api::policy::GROUP)),
            kind: Some(ignored.kind.to_string()),
            name: Some(ignored.name.clone()),
            namespace: Some(ignored.namespace.clone()),
            ..ObjectReference::default()
        },
        reason: Some(IGNORED_REASON.into()),
        message: Some(format!(
            "{} {}/{} is ignored: {}",
            ignored.kind, ignored.namespace, ignored.name, ignored.reason
        )),
        type_: Some("Warning".into()),
        source: Some(EventSource {
            component: Some("strait-policy".into()),
            host: None,
        }),
        reporting_component: Some("strait.io/policy".into()),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        ..K8sEvent::default()
    };
    if let Err(error) = store.apply(&event, "strait-policy").await {
        tracing::debug!(%error, "cannot record the event of an ignored {}", ignored.kind);
    }
}

/// The entries of `current` not in `reported`: what became ignored since
/// the last event, which users need to hear about once (an ignored policy
/// admits no one, and nothing else says so).
fn newly_ignored<'a>(reported: &[Ignored], current: &'a [Ignored]) -> Vec<&'a Ignored> {
    current.iter().filter(|i| !reported.contains(i)).collect()
}

#[cfg(test)]
mod tests;
