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
