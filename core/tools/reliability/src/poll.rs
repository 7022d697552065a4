//! Waiting for the mesh to reach a state, without panicking: a drill that
//! times out reports a failed row with what it saw, where a test would
//! fail.

use std::time::{Duration, Instant};

/// Calls `check` every `every` until it returns `Some` or `patience` has
/// passed; the value, or `None` when it never came.
pub(crate) async fn until<T>(
    patience: Duration,
    every: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_first_value_seen() {
        let mut calls = 0;
        let found = until(Duration::from_secs(5), Duration::from_millis(1), || {
            calls += 1;
            (calls == 3).then_some(calls)
        })
        .await;
        assert_eq!(found, Some(3));
    }

    #[tokio::test]
    async fn gives_up_after_its_patience() {
        let mut calls = 0;
        let found: Option<()> = until(Duration::from_millis(30), Duration::from_millis(5), || {
            calls += 1;
            None
        })
        .await;
        assert_eq!(found, None);
        assert!(calls >= 2, "checked {calls} times");
    }
}
