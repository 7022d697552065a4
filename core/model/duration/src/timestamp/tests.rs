use super::*;

#[test]
fn instants_are_written_as_kubernetes_writes_them() {
    assert_eq!(format(0), "1970-01-01T00:00:00Z");
    assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(format(1_709_251_199), "2024-02-29T23:59:59Z");
    assert_eq!(format(1_795_665_600), "2026-11-26T04:00:00Z");
}

#[test]
fn instants_are_read_with_fractions_and_offsets() {
    assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse("2026-11-26T07:22:53Z"), Some(1_795_677_773));
    assert_eq!(parse("2026-11-26T08:22:53.5+01:00"), Some(1_795_677_773));
    assert_eq!(parse("2026-11-26T06:22:53-01:00"), Some(1_795_677_773));
}

#[test]
fn what_is_not_an_instant_is_none() {
    for text in [
        "yesterday",
        "",
        "2026-13-01T00:00:00Z",
        "2026-11-26T07:22:53",
        "1969-12-31T23:59:59Z",
        "2026-11-26T07:22:53+0100",
    ] {
        assert_eq!(parse(text), None, "{text:?}");
    }
}

#[test]
fn what_is_written_reads_back() {
    for secs in [0, 59, 86_399, 951_782_400, 1_795_677_773, 4_102_444_800] {
        assert_eq!(parse(&format(secs)), Some(secs), "{secs}");
    }
    let now = now();
    assert!(parse(&now).is_some(), "{now}");
}
