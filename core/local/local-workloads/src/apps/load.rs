//! A load generator's accounting, read while it runs: every request its
//! schedule called for is either sent or counted as not sent, and every
//! request sent ends in exactly one of its answers (2xx, 403, another
//! status, a connection error, a timeout). A fault drill reads two of these
//! snapshots to say what a fault cost, to the request, and waits for the
//! requests still in flight before it closes a window, so a request that
//! hangs during a fault and fails later is never left out.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hyper::StatusCode;
use parking_lot::Mutex;

/// How one sent request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Answered with this status.
    Status(StatusCode),
    /// No answer: connecting, the handshake or the exchange failed (or
    /// the request could not be made at all).
    ConnectionError,
    /// No answer within the request timeout.
    Timeout,
}

/// What the generator has done so far.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    not_sent: AtomicU64,
    sent: AtomicU64,
    ok: AtomicU64,
    forbidden: AtomicU64,
    other_status: AtomicU64,
    connection_errors: AtomicU64,
    timeouts: AtomicU64,
    /// Whether the last request failed, to log a change once.
    pub(crate) failing: AtomicBool,
    /// Why the last request not answered 2xx was not.
    last_failure: Mutex<Option<String>>,
    /// Why the last request answered neither 2xx nor 403 was not.
    last_error: Mutex<Option<String>>,
    /// The sequence numbers of the requests sent and not yet ended.
    in_flight: Mutex<BTreeSet<u64>>,
    /// Requests a second the schedule calls for (`qps * concurrency`).
    rate: AtomicU64,
    /// How long a request may take, in milliseconds.
    timeout_ms: AtomicU64,
}

impl Counts {
    /// Records the schedule the generator follows.
    pub(crate) fn schedule(&self, rate: u64, timeout: Duration) {
        self.rate.store(rate, Ordering::Relaxed);
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.timeout_ms.store(millis, Ordering::Relaxed);
    }

    /// `missed` requests of the schedule that were not sent: their time
    /// passed while the generator could not run.
    pub(crate) fn not_sent(&self, missed: u64) {
        self.not_sent.fetch_add(missed, Ordering::Relaxed);
    }

    /// A request is sent; its sequence number, for [`Counts::ended`].
    pub(crate) fn sent(&self) -> u64 {
        let mut in_flight = self.in_flight.lock();
        let sequence = self.sent.fetch_add(1, Ordering::Relaxed);
        in_flight.insert(sequence);
        sequence
    }

    /// Request `sequence` ended as `ending`; `why` says why when it was
    /// not answered 2xx. Whether it was a failure (not 2xx).
    pub(crate) fn ended(&self, sequence: u64, ending: Ending, why: Option<&str>) -> bool {
        let counter = match ending {
            Ending::Status(status) if status.is_success() => &self.ok,
            Ending::Status(StatusCode::FORBIDDEN) => &self.forbidden,
            Ending::Status(_) => &self.other_status,
            Ending::ConnectionError => &self.connection_errors,
            Ending::Timeout => &self.timeouts,
        };
        // Counted before it leaves the in-flight set: whoever sees it gone
        // sees its ending counted.
        counter.fetch_add(1, Ordering::Relaxed);
        let failed = !matches!(ending, Ending::Status(s) if s.is_success());
        if failed {
            let why = why.map(str::to_string);
            if !matches!(ending, Ending::Status(StatusCode::FORBIDDEN)) {
                *self.last_error.lock() = why.clone();
            }
            *self.last_failure.lock() = why;
        }
        self.in_flight.lock().remove(&sequence);
        failed
    }
}

/// A load generator's totals at one moment. Every request the schedule
/// called for is `sent` or `not_sent`; every request sent has ended in one
/// of the five answers or is still in flight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadTotals {
    /// Requests sent.
    pub sent: u64,
    /// Requests the schedule called for whose time passed while the
    /// generator could not run: never sent, and counted so.
    pub not_sent: u64,
    /// Answered with a 2xx status.
    pub ok: u64,
    /// Answered 403 Forbidden.
    pub forbidden: u64,
    /// Answered with any other status.
    pub other_status: u64,
    /// Not answered: connecting, the handshake or the exchange failed.
    pub connection_errors: u64,
    /// Not answered within the request timeout.
    pub timeouts: u64,
}

impl LoadTotals {
    /// What happened between `earlier` and this.
    pub fn since(&self, earlier: &LoadTotals) -> LoadTotals {
        LoadTotals {
            sent: self.sent.saturating_sub(earlier.sent),
            not_sent: self.not_sent.saturating_sub(earlier.not_sent),
            ok: self.ok.saturating_sub(earlier.ok),
            forbidden: self.forbidden.saturating_sub(earlier.forbidden),
            other_status: self.other_status.saturating_sub(earlier.other_status),
            connection_errors: self
                .connection_errors
                .saturating_sub(earlier.connection_errors),
            timeouts: self.timeouts.saturating_sub(earlier.timeouts),
        }
    }

    /// Both together (two windows, or two generators).
    pub fn plus(&self, other: &LoadTotals) -> LoadTotals {
        LoadTotals {
            sent: self.sent + other.sent,
            not_sent: self.not_sent + other.not_sent,
            ok: self.ok + other.ok,
            forbidden: self.forbidden + other.forbidden,
            other_status: self.other_status + other.other_status,
            connection_errors: self.connection_errors + other.connection_errors,
            timeouts: self.timeouts + other.timeouts,
        }
    }

    /// Requests that ended, whatever the answer.
    pub fn ended(&self) -> u64 {
        self.ok + self.forbidden + self.other_status + self.connection_errors + self.timeouts
    }

    /// Requests that ended neither 2xx nor 403: another status, a
    /// connection error or a timeout.
    pub fn other(&self) -> u64 {
        self.other_status + self.connection_errors + self.timeouts
    }
}

/// A load generator's running totals, read while it runs: what a fault
/// drill counts to say how many requests a fault cost, to the request.
#[derive(Clone, Debug, Default)]
pub struct LoadCounts(pub(crate) Arc<Counts>);

impl LoadCounts {
    /// Every total now. Endings are read before sends, so a snapshot never
    /// shows more requests ended than sent.
    pub fn totals(&self) -> LoadTotals {
        let c = &self.0;
        let ok = c.ok.load(Ordering::Relaxed);
        let forbidden = c.forbidden.load(Ordering::Relaxed);
        let other_status = c.other_status.load(Ordering::Relaxed);
        let connection_errors = c.connection_errors.load(Ordering::Relaxed);
        let timeouts = c.timeouts.load(Ordering::Relaxed);
        LoadTotals {
            sent: c.sent.load(Ordering::Relaxed),
            not_sent: c.not_sent.load(Ordering::Relaxed),
            ok,
            forbidden,
            other_status,
            connection_errors,
            timeouts,
        }
    }

    /// Requests answered with a 2xx status.
    pub fn succeeded(&self) -> u64 {
        self.0.ok.load(Ordering::Relaxed)
    }

    /// Requests that failed: a non-2xx status, a connection error or a
    /// timeout.
    pub fn failed(&self) -> u64 {
        let t = self.totals();
        t.forbidden + t.other()
    }

    /// Why the most recent failed request (not 2xx) failed, if any has.
    pub fn last_failure(&self) -> Option<String> {
        self.0.last_failure.lock().clone()
    }

    /// Why the most recent request answered neither 2xx nor 403 was not:
    /// another status, a connection error or a timeout.
    pub fn last_error(&self) -> Option<String> {
        self.0.last_error.lock().clone()
    }

    /// Whether every request sent before the `sent`-th (as [`LoadTotals`]
    /// counts them) has ended.
    pub fn ended_before(&self, sent: u64) -> bool {
        self.0
            .in_flight
            .lock()
            .first()
            .is_none_or(|oldest| *oldest >= sent)
    }

    /// Requests a second its schedule calls for; 0 until it starts.
    pub fn rate(&self) -> u64 {
        self.0.rate.load(Ordering::Relaxed)
    }

    /// How long one request may take before it counts as timed out.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.0.timeout_ms.load(Ordering::Relaxed))
    }
}

impl PartialEq for LoadCounts {
    /// The same generator's totals, not equal numbers.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for LoadCounts {}

/// Which tick of a fixed schedule an instant is, and how many were missed
/// since the last: tokio's interval skips the ticks it could not run on
/// time (to keep an open loop from bursting), and this counts them.
#[derive(Debug)]
pub(crate) struct Ticks {
    start: tokio::time::Instant,
    period: Duration,
    last: u64,
}

impl Ticks {
    /// A schedule of one tick every `period` from `start` (tick 0).
    pub(crate) fn new(start: tokio::time::Instant, period: Duration) -> Ticks {
        Ticks {
            start,
            period,
            last: 0,
        }
    }

    /// The ticks skipped before the tick due at `at`.
    pub(crate) fn missed_before(&mut self, at: tokio::time::Instant) -> u64 {
        let period = self.period.as_nanos().max(1);
        let elapsed = at.saturating_duration_since(self.start).as_nanos();
        let index = u64::try_from((elapsed + period / 2) / period).unwrap_or(u64::MAX);
        let missed = index.saturating_sub(self.last).saturating_sub(1);
        self.last = self.last.max(index);
        missed
    }
}

#[cfg(test)]
mod tests;
