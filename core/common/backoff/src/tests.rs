use std::time::Duration;

use super::Backoff;

const MS: Duration = Duration::from_millis(1);

#[test]
fn delays_double_from_the_minimum() {
    let mut backoff = Backoff::new(100 * MS, 10_000 * MS);
    let delays: Vec<Duration> = (0..5).map(|_| backoff.next_delay()).collect();
    assert_eq!(delays, [100 * MS, 200 * MS, 400 * MS, 800 * MS, 1600 * MS]);
}

#[test]
fn delays_stop_growing_at_the_cap() {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
    let delays: Vec<Duration> = backoff.by_ref().take(6).collect();
    let secs = Duration::from_secs;
    assert_eq!(
        delays,
        [secs(1), secs(2), secs(4), secs(5), secs(5), secs(5)]
    );
}

#[test]
fn reset_starts_over_at_the_minimum() {
    let mut backoff = Backoff::new(500 * MS, Duration::from_secs(30));
    for _ in 0..4 {
        backoff.next_delay();
    }
    assert_eq!(backoff.peek(), 8000 * MS);
    backoff.reset();
    assert_eq!(backoff.next_delay(), 500 * MS);
    assert_eq!(backoff.next_delay(), 1000 * MS);
}

#[test]
fn peek_does_not_move_the_schedule() {
    let mut backoff = Backoff::new(100 * MS, Duration::from_secs(5));
    backoff.next_delay();
    assert_eq!(backoff.peek(), 200 * MS);
    assert_eq!(backoff.peek(), 200 * MS);
    assert_eq!(backoff.next_delay(), 200 * MS);
    assert_eq!(backoff.peek(), 400 * MS);
}

#[test]
fn many_failures_neither_overflow_nor_pass_the_cap() {
    let mut capped = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    let mut uncapped = Backoff::new(Duration::from_secs(1), Duration::MAX);
    for _ in 0..10_000 {
        assert!(capped.next_delay() <= Duration::from_secs(30));
        uncapped.next_delay();
    }
    assert_eq!(capped.next_delay(), Duration::from_secs(30));
    assert_eq!(
        uncapped.next_delay(),
        Duration::MAX,
        "saturates at the largest delay"
    );
}

#[test]
fn a_minimum_above_the_cap_is_the_first_delay_only() {
    let mut backoff = Backoff::new(Duration::from_secs(10), Duration::from_secs(3));
    assert_eq!(backoff.next_delay(), Duration::from_secs(10));
    assert_eq!(backoff.next_delay(), Duration::from_secs(3));
    assert_eq!(backoff.next_delay(), Duration::from_secs(3));
}

#[test]
fn the_iterator_never_ends() {
    let backoff = Backoff::new(MS, MS);
    assert_eq!(backoff.size_hint(), (usize::MAX, None));
    assert_eq!(backoff.take(1000).count(), 1000);
}
