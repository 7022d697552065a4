//! `strait plugin push`: a plugin into the plugins ConfigMap of a cluster,
//! which the control plane follows; the same command hot-reloads a
//! Kubernetes cluster (kubeconfig context) and a `strait local` cluster.

use std::path::Path;
use std::process::ExitCode;

use k8s_openapi::api::core::v1::ConfigMap;
use strait_multicluster::{Cluster, KubeCluster};
use strait_plugin_config::{
    PLUGINS_CONFIG_MAP, PLUGINS_STATUS_CONFIG_MAP, plugin_key, status_annotation,
};
use strait_plugin_host::{PluginKind, PluginSource};
use strait_plugin_tools::configmap::merge;

use crate::context::{Scope, block_on};

/// Who writes the ConfigMap, as server-side apply records it.
const FIELD_MANAGER: &str = "strait-plugin-push";

/// Validates `file` as a plugin of `kind`, then writes it under its key of
/// the plugins ConfigMap (the other key and the rest of the ConfigMap kept),
/// with `version` as the version annotation when given.
pub fn push(scope: &Scope, kind: PluginKind, file: &Path, version: Option<&str>) -> ExitCode {
    let namespace = scope.namespace.as_deref().unwrap_or("linkerd");
    let plugin = match PluginSource::File(file).read().and_then(|plugin| {
        strait_plugin_tools::host()?.check(kind, &plugin)?;
        Ok(plugin)
    }) {
        Ok(plugin) => plugin,
        Err(error) => {
            eprintln!("error: {error}; nothing was pushed");
            return ExitCode::FAILURE;
        }
    };
    let key = plugin_key(kind);
    block_on(async move {
        let written = match strait_multicluster::connect(scope.context.as_deref()).await {
            Ok(cluster) => write(&cluster, namespace, key, &plugin.bytes, version).await,
            Err(error) => Err(error.to_string()),
        };
        match written {
            Ok(()) => {
                println!(
                    "configmap/{PLUGINS_CONFIG_MAP} {key} pushed ({} bytes); the control plane \
                     validates it and reports the outcome in configmap/{PLUGINS_STATUS_CONFIG_MAP} \
                     annotation {}",
                    plugin.bytes.len(),
                    status_annotation(key)
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: writing configmap {namespace}/{PLUGINS_CONFIG_MAP}: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Merges the plugin into the cluster's plugins ConfigMap (the other key
/// and the rest of the ConfigMap kept) and applies it.
async fn write(
    cluster: &KubeCluster,
    namespace: &str,
    key: &str,
    bytes: &[u8],
    version: Option<&str>,
) -> Result<(), String> {
    let current = cluster
        .get::<ConfigMap>(namespace, PLUGINS_CONFIG_MAP)
        .await
        .map_err(|e| e.to_string())?;
    let merged = merge(current, namespace, key, bytes, version);
    cluster
        .apply(&merged, FIELD_MANAGER)
        .await
        .map_err(|e| e.to_string())
}
