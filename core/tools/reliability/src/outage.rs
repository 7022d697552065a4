//! The remote API outage: the server cluster's API server unreachable from
//! the client cluster for a minute. The mirrors must stay, traffic must go
//! on to the endpoints last known, and once the API is back the client
//! cluster must catch up within seconds with what changed meanwhile.

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use strait_store::ClusterStore;
use tokio::time::Instant;

use crate::accounting::{Denied, Ledger};
use crate::faults::{self, MIRROR};
use crate::mesh::{DrillMesh, NAMESPACE, SERVER_CLUSTER};
use crate::report::Row;
use crate::soak::seconds;

/// A Service exported in the server cluster during the outage: its mirror
/// appearing in the client cluster is the sign it caught up.
const CANARY: &str = "outage-canary";
/// How soon after the API is back the client cluster must have caught up.
const RECONVERGE_WITHIN: Duration = Duration::from_secs(10);

/// Runs the outage for `outage` on `mesh`.
pub async fn outage(mesh: &DrillMesh, outage: Duration) -> Vec<Row> {
    let mut rows = Vec::new();
    let switch = match mesh
        .mesh()
        .ok()
        .and_then(|m| m.api_reachability(SERVER_CLUSTER))
    {
        Some(switch) => switch,
        None => {
            rows.push(Row::new(
                "outage",
                "cut east's API",
                "no such cluster",
                "-",
                false,
            ));
            return rows;
        }
    };
    let mirror_uid = faults::client_service_uid(mesh, MIRROR).await;
    let ledger = Ledger::open(mesh);
    switch.cut();
    let cut_at = Instant::now();
    let mut mirror_missing = 0u32;
    let mut checks = 0u32;
    let mut canary_error = None;
    let mut canary_created = false;
    while cut_at.elapsed() < outage {
        tokio::time::sleep(Duration::from_secs(1)).await;
        checks += 1;
        if !faults::client_has_service(mesh, MIRROR).await {
            mirror_missing += 1;
        }
        if !canary_created && cut_at.elapsed() >= outage / 2 {
            canary_created = true;
            if let Err(error) = export_canary(mesh).await {
                canary_error = Some(error);
            }
        }
    }
    let same_mirror =
        mirror_uid.is_some() && faults::client_service_uid(mesh, MIRROR).await == mirror_uid;
    switch.restore();
    let restored_at = Instant::now();
    // Every request sent during the outage has ended by the window's end.
    let during = ledger.close_drained().await;
    let mut happened = format!(
        "mirror {MIRROR} present at {} of {checks} checks (one a second){}",
        checks - mirror_missing,
        if same_mirror {
            ", never re-created"
        } else {
            ", RE-CREATED"
        }
    );
    let why = mesh.why(&during);
    if !why.is_empty() {
        happened.push_str(&format!("; {why}"));
    }
    rows.push(Row::judged(
        "outage",
        format!(
            "east's API server unreachable from west for {} (every watch and request of west's mirror and destination fails)",
            seconds(outage)
        ),
        happened,
        "nothing",
        mirror_missing == 0 && same_mirror && during.traffic.allowed.ok > 0,
        &during,
        Denied::Refused,
    ));
    let mirror = format!("{CANARY}-target");
    let caught_up = async {
        loop {
            if faults::client_has_service(mesh, &mirror).await {
                return restored_at.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (happened, ok) = match canary_error {
        Some(error) => (
            format!("the canary Service could not be created: {error}"),
            false,
        ),
        None => match tokio::time::timeout(RECONVERGE_WITHIN * 6, caught_up).await {
            Ok(after) => (
                format!(
                    "{CANARY}, exported in east during the outage, mirrored in west as {mirror} {:.1}s after the API came back",
                    after.as_secs_f64()
                ),
                after <= RECONVERGE_WITHIN,
            ),
            Err(_) => (
                format!(
                    "{mirror} still missing in west {}s after the API came back",
                    (RECONVERGE_WITHIN * 6).as_secs()
                ),
                false,
            ),
        },
    };
    // West's destination service must have caught up too: it resolves the
    // canary's mirror to east's bb pods.
    let (resolved, resolved_ok) = match mesh.cluster(crate::mesh::CLIENT_CLUSTER) {
        Ok(west) => {
            let authority = format!("{mirror}.{NAMESPACE}.svc.cluster.local:8080");
            let answer = crate::security::wire::resolve(
                west.control_plane_addr(),
                &authority,
                NAMESPACE,
                RECONVERGE_WITHIN * 6,
            )
            .await;
            let after = restored_at.elapsed();
            match answer {
                Ok(endpoints) => (
                    format!(
                        "; west's destination resolved {mirror} to {} of east's pods {:.1}s after",
                        endpoints.len(),
                        after.as_secs_f64()
                    ),
                    after <= RECONVERGE_WITHIN,
                ),
                Err(error) => (format!("; west's destination: {error}"), false),
            }
        }
        Err(error) => (format!("; {error}"), false),
    };
    // Counted on from the last window, until the clients' timeout has
    // passed since the API came back.
    let after = ledger.close_after(restored_at).await;
    let why = mesh.why(&after);
    rows.push(Row::judged(
        "outage",
        format!(
            "east's API back: west must catch up within {}",
            seconds(RECONVERGE_WITHIN)
        ),
        format!(
            "{happened}{resolved}; traffic counted until {:.1}s after the API came back{}",
            restored_at.elapsed().as_secs_f64(),
            if why.is_empty() {
                String::new()
            } else {
                format!("; {why}")
            }
        ),
        "nothing",
        ok && resolved_ok,
        &after,
        Denied::Refused,
    ));
    let _ = remove_canary(mesh).await;
    rows
}

/// Exports a Service selecting bb in the server cluster, as
/// `kubectl apply` of a labelled Service would.
async fn export_canary(mesh: &DrillMesh) -> Result<(), String> {
    let east = mesh.cluster(SERVER_CLUSTER)?;
    let service: Service = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": CANARY,
            "namespace": NAMESPACE,
            "labels": {"mirror.linkerd.io/exported": "remote-discovery"},
        },
        "spec": {
            "selector": {"app": "bb"},
            "ports": [{"name": "http", "port": 8080, "targetPort": 8080}],
        },
    }))
    .map_err(|e| e.to_string())?;
    east.store()
        .apply(&service, "kubectl")
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

async fn remove_canary(mesh: &DrillMesh) -> Result<(), String> {
    let east = mesh.cluster(SERVER_CLUSTER)?;
    east.store()
        .delete::<Service>(NAMESPACE, CANARY)
        .await
        .map_err(|e| e.to_string())
}
