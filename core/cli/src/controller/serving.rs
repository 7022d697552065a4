//! What every control-plane command shares: the names of the mesh, and
//! serving a control plane with its admin endpoint until a signal.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use prometheus_client::registry::Registry;
use strait_control_plane::ControlPlane;

/// How this mesh spells its names; every control-plane component must
/// agree on them, so they are the same flags everywhere, with Linkerd's
/// defaults.
#[derive(Args, Clone, Debug)]
pub struct MeshNames {
    /// Namespace of the control plane; part of every identity name.
    #[arg(long, default_value = "linkerd")]
    pub controller_namespace: String,
    /// Trust domain of the mesh's identities.
    #[arg(long, default_value = "cluster.local")]
    pub identity_trust_domain: String,
}

/// Serves `control_plane` on `addr` and the admin endpoint (metrics of
/// `registry`, `/ready`, `/live`) on `admin_addr`, until Ctrl-C or SIGTERM
/// or until the server fails. Binding either address fails before
/// anything is served.
pub async fn serve_until_signal(
    control_plane: ControlPlane,
    addr: SocketAddr,
    admin_addr: SocketAddr,
    registry: Registry,
) -> Result<(), String> {
    strait_admin::serve(admin_addr, Arc::new(registry), strait_admin::always_ready())
        .await
        .map_err(|e| format!("cannot serve the admin endpoint on {admin_addr}: {e}"))?;
    let mut running = control_plane.serve(addr).await.map_err(|e| e.to_string())?;
    tokio::select! {
        result = running.wait() => result.map_err(|e| e.to_string()),
        () = crate::signal::terminated() => {
            tracing::info!("shutting down");
            running.shutdown().await.map_err(|e| e.to_string())
        }
    }
}
