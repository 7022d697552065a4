use std::time::Duration;

use super::go_duration;

#[test]
fn go_durations_parse_as_linkerd_writes_them() {
    assert_eq!(go_duration("3s"), Some(Duration::from_secs(3)));
    assert_eq!(go_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
    assert_eq!(go_duration("2h"), Some(Duration::from_secs(7200)));
    assert_eq!(go_duration("3"), None, "a unit is required");
    assert_eq!(go_duration("3 days"), None);
    assert_eq!(go_duration(""), None);
}

#[test]
fn a_total_too_long_for_a_duration_is_refused_not_a_panic() {
    // Each term fits in a Duration; their sum does not.
    let text = "10000000000000000000s10000000000000000000s";
    assert_eq!(go_duration(text), None);
    assert_eq!(
        go_duration("10000000000000000000s1s"),
        Some(Duration::from_secs(10_000_000_000_000_000_001))
    );
}
