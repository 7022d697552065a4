//! `strait plugin push`: a plugin checked as the mesh would check it, then
//! written under its key of the plugins ConfigMap of a cluster (the other
//! key and the rest of the ConfigMap kept), which the control plane
//! follows. The command and the reliability drills run this same code, so
//! what the drills find about a push is what users get.

use std::path::Path;

use k8s_openapi::api::core::v1::ConfigMap;
use strait_plugin_config::{PLUGINS_CONFIG_MAP, plugin_key};
use strait_plugin_host::{PluginKind, PluginSource};
use strait_store::ClusterStore;

use crate::ToolError;
use crate::configmap::merge;

/// Who writes the ConfigMap, as server-side apply records it.
pub const FIELD_MANAGER: &str = "strait-plugin-push";

/// Why a push wrote nothing, or did not finish writing.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The file could not be read, or the mesh would refuse the plugin:
    /// nothing was written.
    #[error("{0}; nothing was pushed")]
    Refused(#[source] ToolError),
    /// The cluster could not be reached, or the ConfigMap not read or
    /// written.
    #[error("writing configmap {namespace}/{PLUGINS_CONFIG_MAP}: {reason}")]
    Write {
        /// The namespace of the plugins ConfigMap.
        namespace: String,
        /// What went wrong.
        reason: String,
    },
}

/// What a push wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The key of the plugins ConfigMap it was written under.
    pub key: &'static str,
    /// Its size.
    pub bytes: usize,
    /// Its digest, as the mesh reports it (`sha256:...`).
    pub digest: String,
}

/// Checks the plugin in `file` as a plugin of `kind`, then, only if the
/// mesh would take it, reaches the cluster with `connect` and writes it
/// into the plugins ConfigMap in `namespace`, with `version` as the version
/// annotation when given. The check compiles the component: it blocks.
pub async fn push<S: ClusterStore>(
    kind: PluginKind,
    file: &Path,
    version: Option<&str>,
    namespace: &str,
    connect: impl AsyncFnOnce() -> Result<S, String>,
) -> Result<Pushed, PushError> {
    let plugin = PluginSource::File(file)
        .read()
        .map_err(|e| PushError::Refused(e.into()))?;
    let info = crate::host()
        .and_then(|host| host.check(kind, &plugin))
        .map_err(|e| PushError::Refused(e.into()))?;
    let store = connect().await.map_err(|reason| PushError::Write {
        namespace: namespace.to_string(),
        reason,
    })?;
    write(&store, namespace, kind, &plugin.bytes, version).await?;
    Ok(Pushed {
        key: plugin_key(kind),
        bytes: plugin.bytes.len(),
        digest: info.digest,
    })
}

/// Writes `bytes` under the key of `kind` of the plugins ConfigMap in
/// `namespace`, unchecked: the rest of the ConfigMap kept, its stale status
/// annotations dropped, `version` set (see [`merge`]).
pub async fn write<S: ClusterStore>(
    store: &S,
    namespace: &str,
    kind: PluginKind,
    bytes: &[u8],
    version: Option<&str>,
) -> Result<(), PushError> {
    let failed = |reason: String| PushError::Write {
        namespace: namespace.to_string(),
        reason,
    };
    let current = store
        .get::<ConfigMap>(namespace, PLUGINS_CONFIG_MAP)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let merged = merge(current, namespace, plugin_key(kind), bytes, version);
    store
        .apply(&merged, FIELD_MANAGER)
        .await
        .map(drop)
        .map_err(|e| failed(e.to_string()))
}

#[cfg(test)]
mod tests;
