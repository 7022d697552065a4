//! The plugins drill on the guide at a modest load: every bad plugin is
//! refused by the push's check and, written past it, by the control plane
//! (status annotation and Warning Event, the last good plugin kept); the
//! 10 MB component is distributed; the loop, the memory bomb and the trap
//! are denied with 403 within the bound while slow-cooker loses nothing;
//! and the default plugin brings the guide's decisions back.

use std::path::Path;
use std::time::Instant;

use strait_reliability::{DrillMesh, Load, Outcome, plugins};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_plugins_are_refused_or_contained_and_nothing_is_lost() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples/pod-to-pod");
    let load = Load {
        allowed_rps: 100,
        denied_rps: 10,
    };
    let started = Instant::now();
    let mesh = DrillMesh::start(&example, load, "plugins-test")
        .await
        .unwrap_or_else(|e| panic!("the guide did not start: {e}"));
    let rows = plugins::plugins(&mesh).await;
    mesh.stop().await;
    for row in &rows {
        eprintln!(
            "[{:?}] {}: {} (lost: {})",
            row.outcome, row.tried, row.happened, row.lost
        );
    }
    eprintln!("mesh and drill took {:?}", started.elapsed());
    let failed: Vec<_> = rows.iter().filter(|r| r.outcome != Outcome::Pass).collect();
    assert!(failed.is_empty(), "failed rows: {failed:#?}");
    // The baseline, two cases refused twice each, the 10 MB component, the
    // three call-time cases and the restore.
    assert_eq!(rows.len(), 10, "{rows:#?}");
    let text = |i: usize| rows[i].happened.as_str();
    assert!(text(1).contains("is not a Wasm component"), "{}", text(1));
    assert!(
        text(2).contains("rejected: ") && text(2).contains("Warning PluginRejected"),
        "{}",
        text(2)
    );
    assert!(text(3).contains("is not an authz plugin"), "{}", text(3));
    assert!(
        text(4).contains("still active: drill-baseline"),
        "{}",
        text(4)
    );
    assert!(text(5).contains("active drill-10mb"), "{}", text(5));
    for i in 6..9 {
        assert!(
            text(i).contains("5/5 answered `HTTP/1.1 403"),
            "{}",
            text(i)
        );
    }
    assert!(
        text(9).contains("the guide's decisions back within"),
        "{}",
        text(9)
    );
}
