//! Keeps the inbound policy index in step with the cluster store.
//!
//! One [`follow`] loop per kind the index reads; each event is applied
//! under the index lock and the index generation is then published, so
//! readers wait on a channel instead of polling the index.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Event as K8sEvent, EventSource, ObjectReference, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use parking_lot::Mutex;
use strait_api::gateway;
use strait_api::policy::{
    AuthorizationPolicy, HttpRoute, MeshTlsAuthentication, NetworkAuthentication, Server,
    ServerAuthorization,
};
use strait_policy::{Ignored, Index};
pub use strait_store::follow::REWATCH_BACKOFF;
use strait_store::follow::{Indexes, follow};
use strait_store::{ClusterStore, Event, StoredObject, WatchParams};
use tokio::sync::watch;
use tracing::Instrument;

strait_store::indexes! {
    /// The policy index as the watched kinds feed it.
    struct Fed(Index) {
        Pod => apply_pod, delete_pod, reset_pods;
        Service => apply_service, delete_service, reset_services;
        Server => apply_server, delete_server, reset_servers;
        AuthorizationPolicy =>
            apply_authorization_policy,
            delete_authorization_policy,
            reset_authorization_policies;
        MeshTlsAuthentication =>
            apply_meshtls_authentication,
            delete_meshtls_authentication,
            reset_meshtls_authentications;
        NetworkAuthentication =>
            apply_network_authentication,
            delete_network_authentication,
            reset_network_authentications;
        ServerAuthorization =>
            apply_server_authorization,
            delete_server_authorization,
            reset_server_authorizations;
        HttpRoute => apply_http_route, delete_http_route, reset_http_routes;
        gateway::HttpRoute =>
            apply_gateway_http_route,
            delete_gateway_http_route,
            reset_gateway_http_routes;
    }
}

/// The index and the channel its generation is published on, shared by the
/// watch loops of every kind.
struct Target {
    index: Arc<Mutex<Index>>,
    changes: watch::Sender<u64>,
    /// The resources already reported as ignored, so each is logged once
    /// when it becomes ignored rather than on every event.
    reported: Mutex<Vec<Ignored>>,
    /// The policy kinds (by `apiVersion` and kind: both HTTPRoutes are
    /// `HTTPRoute`) whose first listing has arrived: until all have, a
    /// policy may look ignored only because its authentication's or its
    /// target's kind was not listed yet, which is no news to log.
    listed: Mutex<BTreeSet<(Cow<'static, str>, Cow<'static, str>)>>,
}

/// How many policy kinds (every watched kind but Pod and Service, which no
/// ignored resource depends on) are listed before ignored resources are
/// reported.
const POLICY_KINDS: usize = 7;

impl Target {
    /// Applies one event, then publishes the generation if it moved, so
    /// watchers wake only for real changes. Returns the resources this
    /// event made ignored, to be recorded as Events.
    fn apply<K>(&self, event: Event<K>) -> Vec<Ignored>
    where
        K: StoredObject,
        for<'a> Fed<'a>: Indexes<K>,
    {
        let kind = K::kind(&());
        let mut newly = Vec::new();
        let generation = {
            let mut index = self.index.lock();
            if matches!(event, Event::Reset(_)) {
                self.listed
                    .lock()
                    .insert((K::api_version(&()), kind.clone()));
            }
            Fed(&mut index).apply_event(event);
            // Whether a resource is ignored depends on policy resources
            // only, so a Pod event (the frequent kind) skips the check, as
            // does every event before each policy kind has been listed.
            let listed = self
                .listed
                .lock()
                .iter()
                .filter(|(_, listed)| !is_workload_kind(listed))
                .count();
            if !is_workload_kind(&kind) && listed >= POLICY_KINDS {
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
        let mut reported = self.reported.lock();
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

    /// Follows one kind into the index, recording an Event for each
    /// resource an event made ignored before taking the next event.
    async fn follow<S, K>(&self, store: &S)
    where
        S: ClusterStore,
        K: StoredObject,
        for<'a> Fed<'a>: Indexes<K>,
    {
        follow(store, WatchParams::all(), |event: Event<K>| {
            let newly = self.apply(event);
            async move {
                for ignored in &newly {
                    record_ignored(store, ignored).await;
                }
            }
        })
        .await;
    }
}

/// Pods and Services: frequent, and no resource is ignored because of
/// them, so their events skip the report of ignored resources.
fn is_workload_kind(kind: &str) -> bool {
    kind == "Pod" || kind == "Service"
}

/// Watches Pods, Services, Servers, AuthorizationPolicies, MeshTLSAuthentications,
/// NetworkAuthentications, ServerAuthorizations and HTTPRoutes (of
/// `policy.linkerd.io` and of the Gateway API) in `store` and applies
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
        changes,
        reported: Mutex::new(Vec::new()),
        listed: Mutex::new(BTreeSet::new()),
    };
    // At warn level, so the feed's warnings say whose watch failed under
    // every filter that shows them.
    let span = tracing::warn_span!("policy_feed");
    async {
        tokio::join!(
            target.follow::<S, Pod>(&store),
            target.follow::<S, Service>(&store),
            target.follow::<S, Server>(&store),
            target.follow::<S, AuthorizationPolicy>(&store),
            target.follow::<S, MeshTlsAuthentication>(&store),
            target.follow::<S, NetworkAuthentication>(&store),
            target.follow::<S, ServerAuthorization>(&store),
            target.follow::<S, HttpRoute>(&store),
            target.follow::<S, gateway::HttpRoute>(&store),
        );
    }
    .instrument(span)
    .await;
}

/// The reason of the Event an ignored resource gets.
pub const IGNORED_REASON: &str = "Ignored";

/// Tells the resource's owner, where `kubectl describe` and `kubectl get
/// events` look, why it changes nothing: a Warning Event on it, one per
/// resource and reason. Best effort: the log says it too.
async fn record_ignored<S: ClusterStore>(store: &S, ignored: &Ignored) {
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
            api_version: Some(ignored.api_version.to_string()),
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
