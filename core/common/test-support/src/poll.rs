//! Waiting for what happens asynchronously, with a deadline and a message.
//!
//! Controllers, feeders and proxies act on a change some time after a test
//! makes it, so tests poll. A poll without a deadline hangs a failing test
//! until CI kills it; one that gives up silently lets it pass. Every poll
//! here has both a deadline and a panic naming what did not happen (and the
//! last thing seen instead, when the check says).

use std::fmt::{Debug, Display};
use std::future::IntoFuture;
use std::time::{Duration, Instant};

/// How long a test waits for what should follow a change: generous, so a
/// loaded CI machine does not fail a correct test, and short enough that a
/// broken one fails within seconds.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// How often an asynchronous check runs: often enough that a test waits
/// little longer than the change takes, rarely enough to leave the runtime
/// to the code under test.
const EVERY: Duration = Duration::from_millis(20);

/// What a check returns: whether what it waits for has happened, with the
/// value it yields, or not yet, with what was seen instead.
///
/// `bool` and `Option` say only whether; a `Result` whose error is the last
/// thing seen puts it in the failure message.
pub trait Outcome {
    /// What the wait returns once the check holds.
    type Value;
    /// `Ok` once the check holds; `Err` with what was seen, when it says.
    fn settle(self) -> Result<Self::Value, Option<String>>;
}

impl Outcome for bool {
    type Value = ();
    fn settle(self) -> Result<(), Option<String>> {
        if self { Ok(()) } else { Err(None) }
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn settle(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    type Value = T;
    fn settle(self) -> Result<T, Option<String>> {
        self.map_err(|seen| Some(format!("{seen:?}")))
    }
}

/// Runs `check` until it holds, for up to [`PATIENCE`]; panics naming
/// `what` otherwise.
pub async fn eventually<O: Outcome>(what: impl Display, check: impl AsyncFnMut() -> O) -> O::Value {
    eventually_within(PATIENCE, what, check).await
}

/// Runs `check` until it holds, for up to `patience`; panics naming `what`
/// (and the last thing seen, when the check says) otherwise.
///
/// The deadline is on tokio's clock, so a test with paused time waits no
/// real time.
pub async fn eventually_within<O: Outcome>(
    patience: Duration,
    what: impl Display,
    mut check: impl AsyncFnMut() -> O,
) -> O::Value {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let seen = match check().await.settle() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            fail(&what, patience, seen);
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Runs `check` every `every` until it holds, for up to `patience`, on the
/// calling thread; panics naming `what` otherwise. For tests without a
/// runtime whose checks are slow (a child process per check).
pub fn eventually_blocking<O: Outcome>(
    patience: Duration,
    every: Duration,
    what: impl Display,
    mut check: impl FnMut() -> O,
) -> O::Value {
    let deadline = Instant::now() + patience;
    loop {
        let seen = match check().settle() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if Instant::now() >= deadline {
            fail(&what, patience, seen);
        }
        std::thread::sleep(every);
    }
}

/// Awaits `future` for up to `patience`; panics naming `what` otherwise.
/// For one awaited event (the next message of a stream, a task's end),
/// where a test would otherwise hang on a lost one.
pub async fn within<F: IntoFuture>(patience: Duration, what: impl Display, future: F) -> F::Output {
    match tokio::time::timeout(patience, future).await {
        Ok(output) => output,
        Err(_) => fail(&what, patience, None),
    }
}

fn fail(what: &dyn Display, patience: Duration, seen: Option<String>) -> ! {
    match seen {
        Some(seen) => panic!("{what}: not within {patience:?}; last seen: {seen}"),
        None => panic!("{what}: not within {patience:?}"),
    }
}

#[cfg(test)]
mod tests;
