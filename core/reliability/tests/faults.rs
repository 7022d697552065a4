//! The soak and the remote API outage, short, at a modest load: every fault
//! is done at least once and nothing may be lost.

use std::path::Path;
use std::time::Duration;

use strait_reliability::soak::{SoakOptions, soak};
use strait_reliability::{DrillMesh, Load, Outcome, Row};

fn example() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/pod-to-pod"))
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
    let mesh = DrillMesh::start(example(), load, "test-soak").await.unwrap();
    let options = SoakOptions {
        duration: Duration::from_secs(30),
        push_every: Duration::from_secs(3),
        flap_every: Duration::from_secs(7),
        restart_every: Duration::from_secs(7),
        down_for: Duration::from_secs(1),
    };
    let rows = soak(&mesh, &options).await;
    mesh.stop().await;
    assert_all_pass(&rows);
    // Every kind of fault was done: the rows count them.
    assert!(rows[0].happened.starts_with("9 pushed, 9 reported active"), "{}", rows[0].happened);
    assert!(rows[1].happened.starts_with("4 done"), "{}", rows[1].happened);
    assert!(rows[2].happened.starts_with("4 done"), "{}", rows[2].happened);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_api_outage_keeps_mirrors_and_traffic_and_catches_up() {
    let load = Load {
        allowed_rps: 100,
        denied_rps: 10,
    };
    let mesh = DrillMesh::start(example(), load, "test-outage").await.unwrap();
    let rows = strait_reliability::outage::outage(&mesh, Duration::from_secs(12)).await;
    mesh.stop().await;
    assert_all_pass(&rows);
    assert_eq!(rows.len(), 2);
}
