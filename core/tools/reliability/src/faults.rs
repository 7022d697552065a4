//! The faults the drills inject into the running guide, each done the way
//! it happens to a real mesh: a plugin pushed through the plugins
//! ConfigMap, a Link deleted and re-created, a Link's remote API cut,
//! a controller restarted.

use std::net::SocketAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Service};
use strait_api::link::Link;
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, PLUGINS_STATUS_CONFIG_MAP};
use strait_store::ClusterStore;

use crate::mesh::{CLIENT_CLUSTER, DrillMesh, NAMESPACE, SERVER_CLUSTER};

/// The plugins ConfigMap and its authz key, as `strait plugin push` writes
/// them.
const PLUGINS_NAMESPACE: &str = CONTROL_PLANE_NAMESPACE;
const STATUS_ANNOTATION: &str = "status.strait.io/authz.wasm";
/// The guide's Link in the client cluster, and its mirror of bb.
pub use strait_mesh::names::LINK_NAMESPACE;
/// The Link's name in the example.
pub const LINK_NAME: &str = "target";
/// bb's mirror in the client cluster.
pub const MIRROR: &str = "bb-target";

/// The default authz plugin with a custom section naming `version`
/// appended: the same decisions, a different component (another digest),
/// so pushing it is a real swap.
pub fn default_authz_plugin(version: &str) -> Vec<u8> {
    strait_default_plugins::fixtures::with_custom_section(
        strait_default_plugins::AUTHZ_DEFAULT,
        "strait-reliability-version",
        version.as_bytes(),
    )
}

/// Writes `bytes` as the authz plugin of `cluster`'s plugins ConfigMap with
/// `version`, as `strait plugin push --kind authz --plugin-version` writes
/// it (the check before it left out: these are the default plugin).
pub async fn push_authz(
    mesh: &DrillMesh,
    cluster: &str,
    bytes: &[u8],
    version: &str,
) -> Result<(), String> {
    let cluster = mesh.cluster(cluster)?;
    strait_plugin_tools::push::write(
        cluster.store(),
        PLUGINS_NAMESPACE,
        strait_plugin_host::PluginKind::Authz,
        bytes,
        Some(version),
    )
    .await
    .map_err(|e| format!("pushing authz plugin {version}: {e}"))
}

/// The control plane's report on the authz plugin of `cluster`
/// (`active V (sha256 ...)` or `rejected: ...`) in the status ConfigMap,
/// if it wrote one.
pub async fn authz_status(mesh: &DrillMesh, cluster: &str) -> Option<String> {
    let cluster = mesh.cluster(cluster).ok()?;
    let config_map: ConfigMap = cluster
        .store()
        .get(PLUGINS_NAMESPACE, PLUGINS_STATUS_CONFIG_MAP)
        .await
        .ok()??;
    config_map
        .metadata
        .annotations?
        .get(STATUS_ANNOTATION)
        .cloned()
}

/// Waits up to `timeout` for the control plane to report `version` active.
pub async fn wait_active(
    mesh: &DrillMesh,
    cluster: &str,
    version: &str,
    timeout: Duration,
) -> Result<Duration, String> {
    let started = tokio::time::Instant::now();
    let wanted = format!("active {version} ");
    loop {
        let status = authz_status(mesh, cluster).await;
        if status.as_deref().is_some_and(|s| s.starts_with(&wanted)) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "authz plugin {version} not active after {timeout:?}; status: {}",
                status.unwrap_or_else(|| "none".into())
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// bb's proxy's admin address in the server cluster, where its metrics
/// are served.
pub fn bb_admin(mesh: &DrillMesh) -> Result<SocketAddr, String> {
    mesh.cluster(SERVER_CLUSTER)?
        .pods()
        .into_iter()
        .find(|p| p.namespace == NAMESPACE && p.deployment.as_deref() == Some("bb"))
        .and_then(|p| p.proxy_admin)
        .ok_or_else(|| format!("no bb pod with a proxy in {SERVER_CLUSTER}"))
}

/// Waits up to `timeout` for bb's proxy to report `version` as its active
/// authz plugin: a push is delivered only once the proxy that decides bb's
/// requests runs it. The metric line, or why not.
pub async fn wait_active_in_bb(
    mesh: &DrillMesh,
    version: &str,
    timeout: Duration,
) -> Result<String, String> {
    wait_active_in_proxy(bb_admin(mesh)?, version, timeout).await
}

/// Waits up to `timeout` for the proxy whose admin endpoint is `admin` to
/// report `version` as its active authz plugin (`plugin_active_version`);
/// the metric line, or what it reported instead.
pub async fn wait_active_in_proxy(
    admin: SocketAddr,
    version: &str,
    timeout: Duration,
) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let metrics = proxy_metrics(admin).await;
        if let Ok(text) = &metrics
            && let Some(line) = active_authz_line(text, version)
        {
            return Ok(format!("`{line}`"));
        }
        if tokio::time::Instant::now() > deadline {
            let seen = match metrics {
                Ok(text) => active_authz_versions(&text).join(", "),
                Err(error) => error,
            };
            return Err(format!(
                "authz plugin {version} not active in bb's proxy after {timeout:?} (active: {})",
                if seen.is_empty() { "none" } else { &seen }
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The metrics text of the proxy whose admin endpoint is `admin`.
pub async fn proxy_metrics(admin: SocketAddr) -> Result<String, String> {
    let answer =
        crate::plugins::wire::get(None, admin, "proxy-admin", "/metrics", METRICS_TIMEOUT).await?;
    if answer.code == 200 {
        Ok(answer.body)
    } else {
        Err(format!("/metrics answered {}", answer.status_line))
    }
}

/// How long a proxy's metrics may take to read.
const METRICS_TIMEOUT: Duration = Duration::from_secs(10);

/// The `plugin_active_version` line saying authz plugin `version` is
/// active, if the metrics have it.
pub fn active_authz_line<'m>(metrics: &'m str, version: &str) -> Option<&'m str> {
    let wanted = format!("version=\"{version}\"");
    metrics
        .lines()
        .map(str::trim)
        .find(|l| is_active_authz(l) && l.contains(&wanted))
}

/// The authz versions the metrics report active.
fn active_authz_versions(metrics: &str) -> Vec<String> {
    metrics
        .lines()
        .map(str::trim)
        .filter(|l| is_active_authz(l))
        .filter_map(|l| {
            let (_, rest) = l.split_once("version=\"")?;
            Some(rest.split('"').next()?.to_string())
        })
        .collect()
}

fn is_active_authz(line: &str) -> bool {
    line.starts_with("plugin_active_version")
        && line.contains("plugin=\"authz\"")
        && line.ends_with(" 1")
}

/// Deletes the guide's Link in the client cluster and applies it again
/// after `gap`, as `kubectl delete` then `kubectl apply` of the same file.
pub async fn recreate_link(mesh: &DrillMesh, gap: Duration) -> Result<(), String> {
    let west = mesh.cluster(CLIENT_CLUSTER)?;
    let store = west.store();
    let link: Link = store
        .get(LINK_NAMESPACE, LINK_NAME)
        .await
        .map_err(|e| format!("reading link {LINK_NAME}: {e}"))?
        .ok_or_else(|| format!("link {LINK_NAMESPACE}/{LINK_NAME} is gone"))?;
    store
        .delete::<Link>(LINK_NAMESPACE, LINK_NAME)
        .await
        .map_err(|e| format!("deleting link {LINK_NAME}: {e}"))?;
    tokio::time::sleep(gap).await;
    let mut again = link;
    again.metadata.resource_version = None;
    again.metadata.uid = None;
    again.metadata.managed_fields = None;
    again.metadata.creation_timestamp = None;
    store
        .apply(&again, "kubectl")
        .await
        .map(drop)
        .map_err(|e| format!("re-creating link {LINK_NAME}: {e}"))
}

/// Makes the server cluster's API unreachable from the client cluster for
/// `outage`, then reachable again.
pub async fn cut_remote_api(mesh: &DrillMesh, outage: Duration) -> Result<(), String> {
    let switch = mesh
        .mesh()?
        .api_reachability(SERVER_CLUSTER)
        .ok_or_else(|| format!("no cluster {SERVER_CLUSTER}"))?;
    switch.cut();
    tokio::time::sleep(outage).await;
    switch.restore();
    Ok(())
}

/// A controller the drills restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// The client cluster's service mirrors.
    ClientMirrors,
    /// The client cluster's control plane (destination, identity, policy).
    ClientControlPlane,
    /// The server cluster's control plane (its policy decides bb's
    /// inbound).
    ServerControlPlane,
}

impl Controller {
    /// Every controller, in the order the soak restarts them.
    pub const ALL: [Controller; 3] = [
        Controller::ClientMirrors,
        Controller::ClientControlPlane,
        Controller::ServerControlPlane,
    ];

    /// What it is, for the table.
    pub fn describe(self) -> &'static str {
        match self {
            Controller::ClientMirrors => "west's service mirror",
            Controller::ClientControlPlane => {
                "west's control plane (destination, identity, policy)"
            }
            Controller::ServerControlPlane => {
                "east's control plane (destination, identity, policy)"
            }
        }
    }

    /// Restarts it, down for `down_for`.
    pub async fn restart(self, mesh: &DrillMesh, down_for: Duration) -> Result<(), String> {
        match self {
            Controller::ClientMirrors => {
                mesh.cluster(CLIENT_CLUSTER)?
                    .restart_service_mirrors(down_for)
                    .await;
                Ok(())
            }
            Controller::ClientControlPlane => mesh
                .cluster(CLIENT_CLUSTER)?
                .restart_control_plane(down_for)
                .await
                .map_err(|e| format!("the control plane did not restart: {e}")),
            Controller::ServerControlPlane => mesh
                .cluster(SERVER_CLUSTER)?
                .restart_control_plane(down_for)
                .await
                .map_err(|e| format!("the control plane did not restart: {e}")),
        }
    }
}

/// The uid of Service `name` in the guide's namespace of the client
/// cluster: the same uid later means it was never deleted meanwhile.
pub async fn client_service_uid(mesh: &DrillMesh, name: &str) -> Option<String> {
    let west = mesh.cluster(CLIENT_CLUSTER).ok()?;
    let service: Service = west.store().get(NAMESPACE, name).await.ok()??;
    service.metadata.uid
}

/// Whether `name` exists as a Service in the guide's namespace of the
/// client cluster.
pub async fn client_has_service(mesh: &DrillMesh, name: &str) -> bool {
    let Ok(west) = mesh.cluster(CLIENT_CLUSTER) else {
        return false;
    };
    matches!(
        west.store().get::<Service>(NAMESPACE, name).await,
        Ok(Some(_))
    )
}

#[cfg(test)]
mod tests;
