//! The soak and the remote API outage, short, at a modest load: every fault
//! is done at least once and nothing may be lost.

use std::path::Path;
use std::time::Duration;

use strait_store::ClusterStore;

use strait_reliability::soak::{SoakOptions, soak};
use strait_reliability::{DrillMesh, Load, Outcome, Row};

fn example() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../examples/pod-to-pod"
    ))
}

fn assert_all_pass(rows: &[Row]) {
    for row in rows {
        eprintln!("{row:?}");
    }
    assert!(!rows.is_empty());
    let failed: Vec<&Row> = rows.iter().filter(|r| r.outcome != Outcome::Pass).collect();
    assert!(failed.is_empty(), "failed rows: {failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_with_every_fault_loses_nothing() {
    let load = Load {
        allowed_rps: 100,
        denied_rps: 10,
    };
    let mesh = DrillMesh::start(example(), load, "test-soak")
        .await
        .unwrap();
    let options = SoakOptions {
        duration: Duration::from_secs(30),
        push_every: Duration::from_secs(3),
        flap_every: Duration::from_secs(7),
        restart_every: Duration::from_secs(7),
        restart_down: Duration::from_secs(2),
        flap_gap: Duration::from_secs(1),
        flap_cut: Duration::from_secs(3),
    };
    let rows = soak(&mesh, &options).await;
    mesh.stop().await;
    assert_all_pass(&rows);
    // Every kind of fault was done, more than once: the rows count them.
    let count = |row: &Row| -> u32 {
        let first = row.happened.split_whitespace().next().unwrap_or_default();
        first
            .parse()
            .unwrap_or_else(|_| panic!("no count in {:?}", row.happened))
    };
    let pushed = count(&rows[0]);
    assert!(pushed >= 4, "{}", rows[0].happened);
    assert!(
        rows[0]
            .happened
            .starts_with(&format!("{pushed} pushed, {pushed} active in bb's proxy")),
        "{}",
        rows[0].happened
    );
    assert!(count(&rows[1]) >= 2, "{}", rows[1].happened);
    assert!(count(&rows[2]) >= 2, "{}", rows[2].happened);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_api_outage_keeps_mirrors_and_traffic_and_catches_up() {
    let load = Load {
        allowed_rps: 100,
        denied_rps: 10,
    };
    let mesh = DrillMesh::start(example(), load, "test-outage")
        .await
        .unwrap();
    let rows = strait_reliability::outage::outage(&mesh, Duration::from_secs(12)).await;
    // The counts do see a loss when there is one: with bb's mirror gone,
    // slow-cooker's requests to it fail.
    let west = mesh.cluster("west").unwrap();
    west.store()
        .delete::<k8s_openapi::api::core::v1::Service>("mc-demo", "bb-target")
        .await
        .unwrap();
    // The proxy fails requests fast (503) once it has had no endpoints
    // for 3s.
    let broken = mesh.observe(Duration::from_secs(8)).await;
    mesh.stop().await;
    assert_all_pass(&rows);
    assert_eq!(rows.len(), 2);
    assert!(broken.allowed_failed() > 0, "{broken:?}");
    assert!(!broken.ok());
}
