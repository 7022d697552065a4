//! Exponential backoff between retries.
//!
//! Every loop in strait that reconnects a stream or retries a call waits
//! the same way: a first delay after a failure, doubled after each further
//! failure up to a cap, and back to the first delay once an attempt
//! succeeds. [`Backoff`] is that schedule, and only the schedule: callers
//! wait in their own way (a plain sleep, a `select!` that also watches for
//! shutdown, a deadline kept in a queue), so this crate needs no runtime.
//!
//! There is no jitter: no caller had any, and the delays stay predictable
//! for tests that measure recovery times.

use std::time::Duration;

/// The delays between consecutive failed attempts: `min`, then doubling
/// after each failure, never above `max`.
///
/// ```
/// use std::time::Duration;
/// use strait_backoff::Backoff;
///
/// let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(300));
/// assert_eq!(backoff.next_delay(), Duration::from_millis(100));
/// assert_eq!(backoff.next_delay(), Duration::from_millis(200));
/// assert_eq!(backoff.next_delay(), Duration::from_millis(300));
/// backoff.reset();
/// assert_eq!(backoff.next_delay(), Duration::from_millis(100));
/// ```
///
/// It is also an endless [`Iterator`] of those delays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// A schedule whose first delay is `min` and whose later delays double
    /// up to `max`. The first delay is `min` even when it exceeds `max`:
    /// the cap bounds the growth, it does not shorten the first wait.
    pub const fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max,
            next: min,
        }
    }

    /// The delay to wait after this failure; the one after the next
    /// failure is twice as long, up to the cap. Saturates instead of
    /// overflowing, however many failures there were.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        delay
    }

    /// The delay [`next_delay`](Self::next_delay) would return, without
    /// moving the schedule on: for a second retry that follows the same
    /// schedule but should not lengthen it.
    pub fn peek(&self) -> Duration {
        self.next
    }

    /// Starts the schedule over, after an attempt succeeded: the next
    /// failure waits `min` again.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    /// Never `None`: there is always a next delay.
    fn next(&mut self) -> Option<Duration> {
        Some(self.next_delay())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

#[cfg(test)]
mod tests;
