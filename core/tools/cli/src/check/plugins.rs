//! `strait-plugins`: every plugin key the followers report on is served by
//! an active plugin, as the status ConfigMap says.

use k8s_openapi::api::core::v1::ConfigMap;
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, PLUGINS_STATUS_CONFIG_MAP};
use strait_multicluster::Cluster;
use strait_multicluster::report::Reporter;
use strait_plugin_config::STATUS_ANNOTATION_PREFIX;

/// What a key's status says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// The last plugin pushed is active.
    Active,
    /// The last push was refused; an earlier plugin still serves.
    RejectedStillServing,
    /// Nothing serves the key.
    Down,
}

/// Reads a status annotation's text (`active 1.2.0 (sha256 ...)`,
/// `rejected: ...; still active: ...`, `rejected: ...; no plugin of this
/// key is active`).
pub fn classify(status: &str) -> KeyStatus {
    if status.starts_with("active") {
        KeyStatus::Active
    } else if status.contains("; still active: ") {
        KeyStatus::RejectedStillServing
    } else {
        KeyStatus::Down
    }
}

pub async fn check<C: Cluster>(cluster: &C, report: &mut Reporter<'_>) {
    let status = match cluster
        .get::<ConfigMap>(CONTROL_PLANE_NAMESPACE, PLUGINS_STATUS_CONFIG_MAP)
        .await
    {
        Ok(status) => status,
        Err(err) => return report.fail("plugins are active", &err.to_string()),
    };
    let keys: Vec<(String, String)> = status
        .and_then(|s| s.metadata.annotations)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(STATUS_ANNOTATION_PREFIX)?.to_owned(), v)))
        .collect();
    if keys.is_empty() {
        return report.pass("the built-in plugins are active (no plugin pushed)");
    }
    for (key, text) in keys {
        let what = format!("plugin {key} is active");
        match classify(&text) {
            KeyStatus::Active => report.pass(&format!("{what}: {text}")),
            KeyStatus::RejectedStillServing => report.warn(&what, &text),
            KeyStatus::Down => report.fail(&what, &text),
        }
    }
}
