use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

#[tokio::test(start_paused = true)]
async fn a_check_that_comes_to_hold_returns_its_value() {
    let calls = AtomicUsize::new(0);
    let value = eventually("the third call", async || {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        (n == 3).then_some(n)
    })
    .await;
    assert_eq!(value, 3);
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "bb mirrored: not within 10s")]
async fn a_check_that_never_holds_fails_naming_what() {
    eventually("bb mirrored", async || false).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "last seen: \"2 endpoints\"")]
async fn a_failure_names_the_last_thing_seen() {
    eventually_within(Duration::from_secs(1), "3 endpoints", async || {
        Err::<(), _>("2 endpoints")
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_the_patience_given() {
    let started = tokio::time::Instant::now();
    let waited = tokio::spawn(eventually_within(
        Duration::from_secs(2),
        "never",
        async || false,
    ))
    .await;
    assert!(waited.is_err(), "the wait must fail");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[test]
fn a_blocking_check_polls_at_its_pace() {
    let mut calls = 0;
    eventually_blocking(
        Duration::from_secs(5),
        Duration::from_millis(1),
        "the second call",
        || {
            calls += 1;
            calls == 2
        },
    );
    assert_eq!(calls, 2);
}

#[test]
#[should_panic(expected = "every pod running: not within 10ms")]
fn a_blocking_check_that_never_holds_fails_naming_what() {
    eventually_blocking(
        Duration::from_millis(10),
        Duration::from_millis(1),
        "every pod running",
        || false,
    );
}

#[tokio::test(start_paused = true)]
async fn within_returns_what_came_in_time() {
    let value = within(Duration::from_secs(1), "an answer", async { 7 }).await;
    assert_eq!(value, 7);
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "the next update: not within 1s")]
async fn within_fails_naming_what_did_not_come() {
    within(
        Duration::from_secs(1),
        "the next update",
        std::future::pending::<()>(),
    )
    .await;
}
