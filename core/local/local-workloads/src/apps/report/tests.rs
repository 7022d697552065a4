use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn cooker(args: &[&str]) -> SlowCooker {
    crate::images::slow_cooker_with(args)
}

fn answered(status: u16, ms: u64) -> Outcome {
    Outcome::Answered {
        status,
        latency: Duration::from_millis(ms),
    }
}

const AT: u64 = 1_796_460_732;

fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(AT)
}

#[test]
fn the_header_is_slow_cookers() {
    let c = cooker(&["-qps", "10", "-concurrency", "2", "http://bb:8080"]);
    assert_eq!(
        header(&c),
        "# sending 20 GET req/s with concurrency=2 to http://bb:8080 ...\n\
         #                    iter   good/b/f t   goal%   min [p50 p95 p99  p999]  max bhash change"
    );
}

#[test]
fn an_interval_line_counts_and_measures_its_requests() {
    let report = Report::new(&cooker(&["-interval=1s", "-qps=10", "http://bb:8080"]));
    for ms in [1, 1, 2, 2, 3] {
        report.record(answered(200, ms));
    }
    report.record(answered(404, 1));
    report.record(answered(503, 7));
    report.record(Outcome::Failed);
    assert_eq!(
        report.interval_line(at()),
        "2026-12-05T08:52:12Z    0      6/1/1 10  70% 1s   1 [  2   7   7    7 ]    7      0 +"
    );
    // The next interval starts from nothing; its p99 of 0 is below the
    // mean of the last five, a fall.
    assert_eq!(
        report.interval_line(at()),
        "2026-12-05T08:52:12Z    1      0/0/0 10   0% 1s   0 [  0   0   0    0 ]    0      0 -"
    );
}

#[test]
fn the_summary_covers_every_interval() {
    let report = Report::new(&cooker(&["http://bb:8080"]));
    report.record(answered(200, 4));
    report.interval_line(at());
    report.record(answered(200, 8));
    assert_eq!(
        report.summary(),
        "{\n  \"p50\": 4,\n  \"p75\": 8,\n  \"p90\": 8,\n  \"p95\": 8,\n  \"p99\": 8,\n  \"p999\": 8\n}"
    );
}

#[test]
fn quantiles_are_hdrhistograms() {
    let mut l = Latencies::default();
    assert_eq!(l.at_quantile(50.0), 0);
    for ms in 1..=100 {
        l.record(ms);
    }
    assert_eq!(
        (
            l.at_quantile(50.0),
            l.at_quantile(95.0),
            l.at_quantile(999.0)
        ),
        (50, 95, 100)
    );
}

#[test]
fn the_change_indicator_counts_tenfolds() {
    assert_eq!(change_indicator(&[0; 5], 0), "");
    assert_eq!(change_indicator(&[0; 5], 3), "+");
    assert_eq!(change_indicator(&[10; 5], 100), "+");
    assert_eq!(change_indicator(&[10; 5], 10_000), "+++");
    assert_eq!(change_indicator(&[100; 5], 1), "--");
    assert_eq!(change_indicator(&[10; 5], 50), "");
}

#[test]
fn durations_print_as_go_prints_them() {
    let cases = [
        (Duration::from_secs(10), "10s"),
        (Duration::from_secs(60), "1m0s"),
        (Duration::from_millis(1500), "1.5s"),
        (Duration::from_millis(500), "500ms"),
        (Duration::from_secs(3723), "1h2m3s"),
    ];
    for (duration, text) in cases {
        assert_eq!(go_duration(duration), text);
    }
}
