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
        table.contains("| soak | a \\| b | line break | nothing | pass |"),
        "{table}"
    );
    assert!(
        table.contains("| outage | x | y | 3 requests | FAIL |"),
        "{table}"
    );
    assert!(
        table.ends_with("1 passed, 1 failed, 1 skipped\n"),
        "{table}"
    );
    assert_eq!(report.failures(), 1);
}
