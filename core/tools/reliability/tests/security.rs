//! The security drill end to end: the guide at a modest load, each attack
//! made over real sockets, every row required to pass.

use std::path::Path;
use std::time::Instant;

use strait_reliability::security::security;
use strait_reliability::{DrillMesh, Load, Outcome, Report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attack_is_refused_while_the_guide_stays_lossless() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples/pod-to-pod");
    let mesh = DrillMesh::start(
        &example,
        Load {
            allowed_rps: 100,
            denied_rps: 10,
        },
        "security",
    )
    .await
    .expect("the guide should start and settle");
    let started = Instant::now();
    let rows = security(&mesh).await;
    let took = started.elapsed();
    mesh.stop().await;
    let mut report = Report::default();
    report.extend(rows);
    let table = report.table();
    eprintln!("{table}drill took {took:?}");
    assert!(
        report.rows().len() >= 5,
        "every case should give its row(s):\n{table}"
    );
    assert!(
        report.rows().iter().all(|r| r.outcome == Outcome::Pass),
        "an attack was admitted or cost the guide requests:\n{table}"
    );
}
