//! Reporting outcomes where `kubectl` shows them: annotations on the
//! status ConfigMap beside the plugins ConfigMap, and Events about the
//! plugins ConfigMap.
//!
//! The status has a ConfigMap of its own because whoever may write a
//! ConfigMap may write all of it: were the status on the plugins ConfigMap,
//! every follower (each service mirror, which handles a remote cluster's
//! data) would need `patch` on the mesh's authz plugin.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use strait_store::ClusterStore;

use crate::Outcome;

/// The component named as the source of this controller's Events.
pub const FIELD_MANAGER: &str = "strait-plugin-config";

/// The field manager of the writes reporting `key`'s outcome:
/// `strait-plugin-config-authz`, `strait-plugin-config-export`. One per key
/// because different components follow different keys (the policy
/// controller authz, every service mirror export): under one shared
/// manager, server-side apply would remove the other key's annotation each
/// time one of them applies its own. Components following the same key
/// write the same status, so they share its manager.
pub fn field_manager(key: &str) -> String {
    let kind = key.split('.').next().unwrap_or(key);
    format!("{FIELD_MANAGER}-{kind}")
}

/// The prefix of the per-key status annotations, followed by the key:
/// `status.strait.io/authz.wasm`.
pub const STATUS_ANNOTATION_PREFIX: &str = "status.strait.io/";

/// The annotation of the status ConfigMap reporting `key`'s outcome.
pub fn status_annotation(key: &str) -> String {
    format!("{STATUS_ANNOTATION_PREFIX}{key}")
}

/// The outcome of `key` as the status ConfigMap `status` reports it, if it
/// reports one.
pub fn read_status<'a>(status: &'a ConfigMap, key: &str) -> Option<&'a str> {
    status
        .metadata
        .annotations
        .as_ref()?
        .get(&status_annotation(key))
        .map(String::as_str)
}

/// The status text of an outcome, as the annotation holds it.
pub(crate) fn status_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Active { version, digest } => {
            format!(
                "active {version} (sha256 {})",
                strait_mesh::plugins::short_digest(digest)
            )
        }
        Outcome::Rejected {
            reason,
            still_active,
            ..
        } => match still_active {
            Some(active) => format!("rejected: {reason}; still active: {active}"),
            None => format!("rejected: {reason}; no plugin of this key is active"),
        },
    }
}

/// Writes every key's status onto the status ConfigMap `status_name`, in
/// the plugins ConfigMap's namespace (each key as its own field manager;
/// the first write creates it), and an Event about the plugins ConfigMap
/// for each outcome in `changed`. The plugins ConfigMap itself is never
/// written. Failures are logged: the plugins are in place whether or not
/// the report could be written.
pub(crate) async fn publish<S: ClusterStore>(
    store: &S,
    config_map: &ConfigMap,
    status_name: &str,
    statuses: &BTreeMap<&'static str, Outcome>,
    changed: &[(&'static str, Outcome)],
) {
    let (Some(namespace), Some(name)) = (
        config_map.metadata.namespace.clone(),
        config_map.metadata.name.clone(),
    ) else {
        return;
    };
    for (key, outcome) in statuses {
        let status = status_config_map(status_name, &namespace, key, outcome);
        if let Err(error) = store.apply(&status, &field_manager(key)).await {
            tracing::warn!(%namespace, status = %status_name, %key, %error, "cannot write the plugin status");
        }
    }
    for (key, outcome) in changed {
        let event = event(config_map, &namespace, &name, key, outcome);
        if let Err(error) = store.apply(&event, &field_manager(key)).await {
            tracing::warn!(%namespace, %name, %error, "cannot record a plugin event");
        }
    }
}

/// The status ConfigMap as one key's field manager applies it: only that
/// key's annotation (and the label every strait object carries), so the
/// other keys' managers keep theirs.
fn status_config_map(name: &str, namespace: &str, key: &str, outcome: &Outcome) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/part-of".to_string(),
                "strait".to_string(),
            )])),
            annotations: Some(BTreeMap::from([(
                status_annotation(key),
                status_text(outcome),
            )])),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

fn event(
    config_map: &ConfigMap,
    namespace: &str,
    name: &str,
    key: &str,
    outcome: &Outcome,
) -> Event {
    let (reason, type_, digest) = match outcome {
        Outcome::Active { digest, .. } => ("PluginActivated", "Normal", digest.as_str()),
        Outcome::Rejected { digest, .. } => ("PluginRejected", "Warning", digest.as_str()),
    };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    // One Event per key, outcome and plugin: handling the same bytes again
    // rewrites it rather than piling up copies.
    let kind = key.split('.').next().unwrap_or(key);
    let short = if digest.is_empty() {
        "unreadable"
    } else {
        strait_mesh::plugins::short_digest(digest)
    };
    Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{name}.{kind}.{}.{short}",
                reason.to_ascii_lowercase()
            )),
            namespace: Some(namespace.to_string()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".to_string()),
            kind: Some("ConfigMap".to_string()),
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            uid: config_map.metadata.uid.clone(),
            ..ObjectReference::default()
        },
        reason: Some(reason.to_string()),
        message: Some(format!("{key}: {}", status_text(outcome))),
        type_: Some(type_.to_string()),
        source: Some(EventSource {
            component: Some(FIELD_MANAGER.to_string()),
            host: None,
        }),
        count: Some(1),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        ..Event::default()
    }
}
