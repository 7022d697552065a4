//! `strait plugin push`: a plugin into the plugins ConfigMap of a cluster,
//! which the control plane follows; the same command hot-reloads a
//! Kubernetes cluster (kubeconfig context) and a `strait local` cluster.

use std::path::Path;
use std::process::ExitCode;

use k8s_openapi::api::core::v1::ConfigMap;
use strait_plugin_config::{
    PLUGINS_CONFIG_MAP, PLUGINS_STATUS_CONFIG_MAP, plugin_key, status_annotation,
};
use strait_plugin_host::{PluginKind, PluginSource};
use strait_plugin_tools::configmap::{merge, with_type};
use strait_store::ClusterStore;

use crate::context::{Scope, Target, block_on, resolve};

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
    let target = match resolve(scope.context.as_deref()) {
        Ok(target) => target,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    block_on(async move {
        let written = match target {
            Target::Local(client) => {
                let current = match client.objects("ConfigMap", None, Some(namespace)).await {
                    Ok(objects) => objects
                        .into_iter()
                        .filter_map(|o| serde_json::from_value::<ConfigMap>(o).ok())
                        .find(|cm| cm.metadata.name.as_deref() == Some(PLUGINS_CONFIG_MAP)),
                    Err(error) => {
                        eprintln!("error: {error}");
                        return ExitCode::FAILURE;
                    }
                };
                let merged = merge(current, namespace, key, &plugin.bytes, version);
                match serde_json::to_string(&with_type(&merged)) {
                    Ok(text) => client
                        .apply(&text, Some(namespace))
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string()),
                    Err(error) => Err(error.to_string()),
                }
            }
            Target::Kubernetes { context, .. } => {
                match strait_store_kube::KubeStore::for_context(&context).await {
                    Ok(store) => {
                        match store.get::<ConfigMap>(namespace, PLUGINS_CONFIG_MAP).await {
                            Ok(current) => {
                                let merged = merge(current, namespace, key, &plugin.bytes, version);
                                store
                                    .apply(&merged, FIELD_MANAGER)
                                    .await
                                    .map(drop)
                                    .map_err(|e| e.to_string())
                            }
                            Err(error) => Err(error.to_string()),
                        }
                    }
                    Err(error) => Err(format!("kubeconfig context {context:?}: {error}")),
                }
            }
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
