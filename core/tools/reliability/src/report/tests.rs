use super::*;

#[test]
fn the_table_escapes_cells_and_counts_each_outcome() {
    let mut report = Report::default();
    report.push(Row::new("soak", "a | b", "line\nbreak", "nothing", true));
    report.push(Row::new("outage", "x", "y", "3 requests", false));
    report.push(Row::skipped(
        "fuzz",
        "targets",
        "cargo-fuzz is not installed",
    ));
    let table = report.table();
    assert!(
        table.contains("| soak | a \\| b | line break | - | nothing | pass |"),
        "{table}"
    );
    assert!(
        table.contains("| outage | x | y | - | 3 requests | FAIL |"),
        "{table}"
    );
    assert!(
        table.ends_with("1 passed, 1 failed, 1 skipped\n"),
        "{table}"
    );
    assert_eq!(report.failures(), 1);
}

#[test]
fn a_skipped_row_fails_the_run_unless_allowed() {
    let mut report = Report::default();
    report.push(Row::new("soak", "t", "h", "nothing", true));
    assert!(report.passed(false));
    report.push(Row::skipped("fuzz", "targets", "--fuzz-seconds 0"));
    assert_eq!(report.failures(), 0);
    assert!(!report.passed(false));
    assert!(report.passed(true));
    assert_eq!(report.skipped()[0].tried, "targets");
}

#[test]
fn a_judged_row_shows_its_counts_and_fails_on_its_window() {
    use crate::accounting::{Traffic, Window};
    use strait_local_workloads::LoadTotals;
    let window = Window {
        traffic: Traffic {
            allowed: LoadTotals {
                sent: 10,
                ok: 10,
                ..LoadTotals::default()
            },
            denied: LoadTotals {
                sent: 2,
                forbidden: 1,
                other_status: 1,
                ..LoadTotals::default()
            },
        },
        took: std::time::Duration::from_secs(1),
        allowed_rate: 10,
        denied_rate: 2,
    };
    let row = Row::judged("soak", "t", "h", "nothing", true, &window, Denied::Refused);
    assert_eq!(row.outcome, Outcome::Fail);
    assert!(
        row.requests.contains("slow-cooker-evil 2 sent"),
        "{}",
        row.requests
    );
    assert!(
        row.lost
            .starts_with("1 denied requests not refused with 403"),
        "{}",
        row.lost
    );
}
