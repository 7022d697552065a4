//! `strait plugin push`: a plugin into the plugins ConfigMap of a cluster,
//! which the control plane follows; the same command hot-reloads a
//! Kubernetes cluster (kubeconfig context) and a `strait local` cluster.
//! What a push does is `strait_plugin_tools::push`; this prints it.

use std::path::Path;
use std::process::ExitCode;

use strait_plugin_config::{PLUGINS_CONFIG_MAP, PLUGINS_STATUS_CONFIG_MAP, status_annotation};
use strait_plugin_host::PluginKind;

use crate::context::{Scope, block_on};

/// Validates `file` as a plugin of `kind`, then writes it under its key of
/// the plugins ConfigMap (the other key and the rest of the ConfigMap kept),
/// with `version` as the version annotation when given.
pub fn push(scope: &Scope, kind: PluginKind, file: &Path, version: Option<&str>) -> ExitCode {
    let namespace = scope.namespace.as_deref().unwrap_or("linkerd");
    block_on(async move {
        let connect = async || {
            strait_multicluster::connect(scope.context.as_deref())
                .await
                .map(|cluster| cluster.store().clone())
                .map_err(|error| error.to_string())
        };
        match strait_plugin_tools::push::push(kind, file, version, namespace, connect).await {
            Ok(pushed) => {
                println!(
                    "configmap/{PLUGINS_CONFIG_MAP} {} pushed ({} bytes); the control plane \
                     validates it and reports the outcome in configmap/{PLUGINS_STATUS_CONFIG_MAP} \
                     annotation {}",
                    pushed.key,
                    pushed.bytes,
                    status_annotation(pushed.key)
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
