//! Warning Events about an object, where `kubectl describe` shows them,
//! written once per distinct message.
//!
//! Controllers that retry (a Link whose credentials are refused, a Link
//! they cannot read) would otherwise write an Event on every attempt. An
//! [`EventRecorder`] remembers the last message it reported per object and
//! reason, and writes again only when the message changes or the fault was
//! [forgotten](EventRecorder::forget) (fixed, or the object deleted). What it
//! remembers is bounded by [`MAX_REPORTED`].

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event as K8sEvent, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::store::{ClusterStore, StoredObject};

/// At most this many (object, reason) pairs are remembered; past it, the
/// oldest key in order is dropped, so a fault is at worst reported again.
pub const MAX_REPORTED: usize = 4096;

/// The longest Event name the API server accepts (a DNS subdomain).
const MAX_NAME: usize = 253;

/// What one object's fault was last reported as.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    kind: String,
    namespace: String,
    name: String,
    reason: String,
}

/// Writes Warning Events as `component` (their `source.component` and
/// field manager), each once until its message changes.
#[derive(Debug)]
pub struct EventRecorder {
    component: String,
    reported: BTreeMap<Key, String>,
}

impl EventRecorder {
    /// A recorder writing as `component` (e.g. `strait-destination`).
    pub fn new(component: impl Into<String>) -> Self {
        EventRecorder {
            component: component.into(),
            reported: BTreeMap::new(),
        }
    }

    /// Writes a Warning Event `reason` with `message` about `object` in the
    /// object's namespace, unless this recorder already reported that very
    /// message for that object and reason. Returns whether it was new (and
    /// so written), for the caller to log it once too.
    ///
    /// Best effort: a write that fails is logged and not retried for the
    /// same message; the caller's log says it as well. One Event per
    /// object, reason and component, named after them: a new message
    /// replaces the previous one rather than piling up Events.
    pub async fn warn<S: ClusterStore, K: StoredObject>(
        &mut self,
        store: &S,
        object: &K,
        reason: &str,
        message: &str,
    ) -> bool {
        let key = key(object, reason);
        if self.reported.get(&key).map(String::as_str) == Some(message) {
            return false;
        }
        if !self.reported.contains_key(&key) && self.reported.len() >= MAX_REPORTED {
            self.reported.pop_first();
        }
        self.reported.insert(key, message.to_string());
        let event = warning(object, reason, message, &self.component);
        if let Err(error) = store.apply(&event, &self.component).await {
            tracing::debug!(%error, reason, "cannot record a Warning event");
        }
        true
    }

    /// Forgets the fault `reason` of `object` (fixed), so that it is
    /// reported again should it come back.
    pub fn forget<K: StoredObject>(&mut self, object: &K, reason: &str) {
        self.reported.remove(&key(object, reason));
    }

    /// Forgets every fault of `object` (deleted).
    pub fn forget_object<K: StoredObject>(&mut self, object: &K) {
        let probe = key(object, "");
        self.reported.retain(|k, _| {
            (&k.kind, &k.namespace, &k.name) != (&probe.kind, &probe.namespace, &probe.name)
        });
    }
}

fn key<K: StoredObject>(object: &K, reason: &str) -> Key {
    let meta = object.meta();
    Key {
        kind: K::kind(&()).into_owned(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        reason: reason.to_string(),
    }
}

/// The Warning Event `reason` about `object`, as `component` writes it:
/// named `<object>.<reason in kebab case>.<component>`, so each component
/// keeps one Event per object and reason.
pub fn warning<K: StoredObject>(
    object: &K,
    reason: &str,
    message: &str,
    component: &str,
) -> K8sEvent {
    let meta = object.meta();
    let name = meta.name.clone().unwrap_or_default();
    let namespace = meta.namespace.clone().unwrap_or_default();
    let suffix = format!(".{}.{component}", kebab(reason));
    let kept = MAX_NAME.saturating_sub(suffix.len());
    let event_name: String = name.chars().take(kept).collect::<String>() + &suffix;
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    K8sEvent {
        metadata: ObjectMeta {
            name: Some(event_name),
            namespace: Some(namespace.clone()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(K::api_version(&()).into_owned()),
            kind: Some(K::kind(&()).into_owned()),
            name: Some(name),
            namespace: Some(namespace),
            uid: meta.uid.clone(),
            ..ObjectReference::default()
        },
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        type_: Some("Warning".to_string()),
        source: Some(EventSource {
            component: Some(component.to_string()),
            host: None,
        }),
        reporting_component: Some(component.to_string()),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        ..K8sEvent::default()
    }
}

/// `InvalidCredentials` as `invalid-credentials`.
fn kebab(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len() + 4);
    for (i, c) in reason.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests;
