//! The fuzz drill for real: builds and runs the three targets for 10 s
//! each. Needs cargo-fuzz and minutes of building the first time, so it is
//! ignored by default; run it with
//! `cargo test -p strait-reliability --test fuzz -- --ignored --nocapture`.

use strait_reliability::{Outcome, fuzz};

#[test]
#[ignore = "runs the fuzzers: needs cargo-fuzz and minutes of building"]
fn every_target_runs_without_a_crash() {
    let rows = fuzz::fuzz(10);
    for row in &rows {
        eprintln!(
            "[{:?}] {}: {} (lost: {})",
            row.outcome, row.tried, row.happened, row.lost
        );
    }
    assert!(!rows.is_empty());
    if rows.iter().all(|r| r.outcome == Outcome::Skipped) {
        return;
    }
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let failed: Vec<_> = rows.iter().filter(|r| r.outcome != Outcome::Pass).collect();
    assert!(failed.is_empty(), "failed rows: {failed:#?}");
    for row in &rows {
        assert!(row.happened.ends_with(", 0 crashes"), "{}", row.happened);
    }
}
