//! Linking embedded clusters: the service mirror of every Link, and how a
//! Link's (or a destination's) credentials Secret names the cluster it
//! reaches.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;
use strait_api::labels::{CLUSTER_NAME, KUBECONFIG_KEY};
use strait_api::link::Link;
use strait_mirror::MirrorMetrics;
use strait_plugin_host::ExportPlugin;
use strait_runtime::credentials::connect_link;
use strait_runtime::mirror::LinkMirror;
use strait_store::{ClusterStore, Event, MemoryStore, Reachable, StoreError, WatchParams};
use tokio::sync::watch;

pub use strait_local_api::LOCAL_SCHEME;

/// The clusters of this process, by name, as the others reach them: each
/// behind its own switch, so its API server can be made unreachable from
/// the other clusters (an outage drill) while it runs on.
pub type Clusters = Arc<BTreeMap<String, Reachable<MemoryStore>>>;

/// The cluster a credentials Secret reaches: the `strait-local://` server
/// of its kubeconfig, else its `multicluster.linkerd.io/cluster-name`
/// label. Errors name the Secret and what is missing.
pub fn cluster_of_secret(
    secret: &Secret,
    clusters: &Clusters,
) -> Result<Reachable<MemoryStore>, StoreError> {
    let name = format!(
        "{}/{}",
        secret.metadata.namespace.as_deref().unwrap_or_default(),
        secret.metadata.name.as_deref().unwrap_or_default()
    );
    let from_kubeconfig = secret
        .data
        .as_ref()
        .and_then(|d| d.get(KUBECONFIG_KEY))
        .and_then(|bytes| std::str::from_utf8(&bytes.0).ok())
        .and_then(|text| serde_norway::from_str::<Value>(text).ok())
        .and_then(|config| {
            config["clusters"].as_array().and_then(|clusters| {
                clusters.iter().find_map(|c| {
                    c["cluster"]["server"]
                        .as_str()
                        .and_then(|s| s.strip_prefix(LOCAL_SCHEME))
                        .map(|s| s.trim_end_matches('/').to_string())
                })
            })
        });
    let label = secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(CLUSTER_NAME))
        .cloned();
    let Some(target) = from_kubeconfig.or(label) else {
        return Err(StoreError::Invalid {
            what: format!("credentials secret {name}"),
            reason: format!(
                "its kubeconfig names no {LOCAL_SCHEME}<cluster> server and it has no {CLUSTER_NAME} label"
            ),
        });
    };
    clusters
        .get(&target)
        .cloned()
        .ok_or_else(|| StoreError::NotFound {
            what: format!(
                "cluster {target:?} (named by secret {name}); this process runs {}",
                clusters.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
}

/// Runs the service mirror of every Link in `local`, starting one when a
/// Link appears; each stops (leaving its mirrors, as Linkerd does) when its
/// Link is deleted. Never returns; abort the task to stop them all.
pub async fn mirror_every_link(
    local: MemoryStore,
    clusters: Clusters,
    plugin: Arc<ExportPlugin>,
    metrics: MirrorMetrics,
) {
    let connect = connect_link(local.clone(), move |secret: &Secret| {
        cluster_of_secret(secret, &clusters)
    });
    let mut running: BTreeMap<(String, String), watch::Sender<bool>> = BTreeMap::new();
    loop {
        let mut links = local.watch::<Link>(WatchParams::all());
        while let Some(event) = links.next().await {
            let present: Vec<(String, String)> = match event {
                Ok(Event::Reset(all)) => all.iter().map(key).collect(),
                Ok(Event::Apply(link)) => {
                    let mut keys: Vec<_> = running.keys().cloned().collect();
                    keys.push(key(&link));
                    keys
                }
                Ok(Event::Delete(_)) => continue,
                Err(error) => {
                    tracing::warn!(%error, "link watch failed; watching again");
                    break;
                }
            };
            for (namespace, name) in present {
                if running.contains_key(&(namespace.clone(), name.clone())) {
                    continue;
                }
                let (stop, stopped) = watch::channel(false);
                tracing::info!(link = %name, "starting the service mirror");
                let mirror = LinkMirror::new(
                    local.clone(),
                    namespace.clone(),
                    name.clone(),
                    connect.clone(),
                    plugin.clone(),
                    metrics.clone(),
                );
                tokio::spawn(mirror.run(stopped));
                running.insert((namespace, name), stop);
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn key(link: &Link) -> (String, String) {
    (
        link.metadata.namespace.clone().unwrap_or_default(),
        link.metadata.name.clone().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests;
