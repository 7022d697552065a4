use std::time::Duration;

use super::*;

fn ms(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|v| Duration::from_millis(*v)).collect()
}

#[test]
fn percentiles_are_measured_latencies_by_nearest_rank() {
    let sorted = ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(5));
    assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(10));
    assert_eq!(percentile(&sorted, 0.0), Duration::from_millis(1));
    assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(10));
    assert_eq!(percentile(&[], 50.0), Duration::ZERO);
}

#[test]
fn this_process_has_memory() {
    let (rss, peak) = memory_kib(std::process::id());
    assert!(rss > 0 && peak >= rss, "{rss} {peak}");
}
