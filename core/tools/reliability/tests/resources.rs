//! The bad-resources drill on the guide at a modest load: every bad
//! resource is refused with an error naming the field, or reported with a
//! Warning Event naming the resource, and nothing is lost.

use std::path::Path;

use strait_reliability::{DrillMesh, Load, Outcome, resources};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_bad_resource_is_refused_or_reported_and_nothing_is_lost() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples/pod-to-pod");
    let load = Load {
        allowed_rps: 100,
        denied_rps: 10,
    };
    let mesh = DrillMesh::start(&example, load, "resources-test")
        .await
        .unwrap_or_else(|e| panic!("the guide did not start: {e}"));
    let rows = resources::resources(&mesh).await;
    mesh.stop().await;
    let table: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "[{:?}] {}: {} (lost: {})",
                r.outcome, r.tried, r.happened, r.lost
            )
        })
        .collect();
    println!("{}", table.join("\n"));
    assert_eq!(rows.len(), 7, "{table:#?}");
    assert!(
        rows.iter().all(|r| r.outcome == Outcome::Pass),
        "{table:#?}"
    );
}
