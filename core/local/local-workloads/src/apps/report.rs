//! What slow_cooker prints: a header when it starts, a line per reporting
//! interval, and a latency summary when it has sent all its requests, in
//! slow_cooker's own format so its log reads as the real one's does
//! (`kubectl logs deploy/slow-cooker` in the guides).
//!
//! As slow_cooker counts them, an answer with a status from 200 to 499 is
//! good, any other answer bad, and a request that got no answer (a
//! connection error, a timeout) failed; latencies are to the response
//! head, in whole milliseconds, of answered requests only. Its quirks are
//! kept too: the `p999` column asks its histogram for the 999th percentile,
//! which it clamps to the maximum, and the change indicator compares the
//! interval's p99 with the mean of the previous five (zeros to start).

use std::collections::BTreeMap;

use parking_lot::Mutex;
use std::time::{Duration, SystemTime};

use crate::images::SlowCooker;
use crate::logs::rfc3339_seconds;

/// How many past p99s the change indicator compares with.
const HISTORY: usize = 5;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It was answered with `status` after `latency`.
    Answered { status: u16, latency: Duration },
    /// It got no answer.
    Failed,
}

/// Latencies in milliseconds and how often each was seen: exact, and
/// bounded by the request timeout (one entry per distinct millisecond).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Latencies(BTreeMap<u64, u64>);

impl Latencies {
    pub(crate) fn record(&mut self, ms: u64) {
        *self.0.entry(ms).or_default() += 1;
    }

    /// The value at `quantile` percent (clamped to 100), as hdrhistogram's
    /// `ValueAtQuantile`: the smallest value with at least that share of
    /// the counts at or below it; 0 when empty.
    pub(crate) fn at_quantile(&self, quantile: f64) -> u64 {
        let total: u64 = self.0.values().sum();
        let wanted = ((quantile.min(100.0) / 100.0) * total as f64 + 0.5) as u64;
        let mut seen = 0;
        for (value, count) in &self.0 {
            seen += count;
            if seen >= wanted {
                return *value;
            }
        }
        0
    }
}

/// What one interval counted.
#[derive(Debug, Default)]
struct Window {
    good: u64,
    bad: u64,
    failed: u64,
    min: Option<u64>,
    max: u64,
    latencies: Latencies,
}

#[derive(Debug, Default)]
struct State {
    window: Window,
    all: Latencies,
    history: [u64; HISTORY],
    next_history: usize,
    iteration: u64,
}

/// slow_cooker's counts, recorded by its requests and printed by its
/// reporting loop.
#[derive(Debug)]
pub(crate) struct Report {
    state: Mutex<State>,
    interval: Duration,
    /// Requests the interval should see: `qps * concurrency * seconds`.
    goal: u64,
}

impl Report {
    pub(crate) fn new(cooker: &SlowCooker) -> Self {
        let rate = u64::from(cooker.qps) * u64::from(cooker.concurrency);
        Report {
            state: Mutex::new(State::default()),
            interval: cooker.interval,
            goal: rate * cooker.interval.as_secs(),
        }
    }

    fn state(&self) -> parking_lot::MutexGuard<'_, State> {
        self.state.lock()
    }

    pub(crate) fn record(&self, outcome: Outcome) {
        let mut state = self.state();
        let Outcome::Answered { status, latency } = outcome else {
            state.window.failed += 1;
            return;
        };
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        let window = &mut state.window;
        if (200..500).contains(&status) {
            window.good += 1;
        } else {
            window.bad += 1;
        }
        window.min = Some(window.min.map_or(ms, |min| min.min(ms)));
        window.max = window.max.max(ms);
        window.latencies.record(ms);
        state.all.record(ms);
    }

    /// The line for the interval ending `at`, starting the next interval.
    pub(crate) fn interval_line(&self, at: SystemTime) -> String {
        let mut state = self.state();
        let window = std::mem::take(&mut state.window);
        let p99 = window.latencies.at_quantile(99.0);
        let change = change_indicator(&state.history, p99);
        let slot = state.next_history;
        state.history[slot] = p99;
        state.next_history = (slot + 1) % HISTORY;
        let iteration = state.iteration;
        state.iteration += 1;
        let answered = window.good + window.bad;
        // With no goal (an interval under a second), any answer is 100%.
        let percent = (answered * 100)
            .checked_div(self.goal)
            .unwrap_or(if answered > 0 { 100 } else { 0 })
            .min(100);
        let l = &window.latencies;
        format!(
            "{} {iteration:4} {:6}/{}/{} {} {percent:3}% {} {:3} [{:3} {:3} {p99:3} {:4} ] {:4} {:6} {change}",
            rfc3339_seconds(at),
            window.good,
            window.bad,
            window.failed,
            self.goal,
            go_duration(self.interval),
            window.min.unwrap_or(0),
            l.at_quantile(50.0),
            l.at_quantile(95.0),
            l.at_quantile(999.0),
            window.max,
            0,
        )
    }

    /// The summary slow_cooker prints when it is done: quantiles of every
    /// latency it saw, as indented JSON.
    pub(crate) fn summary(&self) -> String {
        let state = self.state();
        let q = |quantile| state.all.at_quantile(quantile);
        format!(
            "{{\n  \"p50\": {},\n  \"p75\": {},\n  \"p90\": {},\n  \"p95\": {},\n  \"p99\": {},\n  \"p999\": {}\n}}",
            q(50.0),
            q(75.0),
            q(90.0),
            q(95.0),
            q(99.0),
            q(999.0)
        )
    }
}

/// The two lines slow_cooker prints before sending.
pub(crate) fn header(cooker: &SlowCooker) -> String {
    let rate = u64::from(cooker.qps) * u64::from(cooker.concurrency);
    // As wide as the timestamps below, less the "# ".
    let time_padding = " ".repeat("2006-01-02T15:04:05Z".len() - 2);
    let interval_padding = " ".repeat(go_duration(cooker.interval).len().saturating_sub(2));
    format!(
        "# sending {rate} {} req/s with concurrency={} to {} ...\n\
         # {time_padding} iter   good/b/f t   goal% {interval_padding} min [p50 p95 p99  p999]  max bhash change",
        cooker.method, cooker.concurrency, cooker.url.text,
    )
}

/// `+`, `++`, `+++` for each tenfold rise of `latest` over the mean of
/// `history`, `-`… for each tenfold fall, nothing otherwise.
fn change_indicator(history: &[u64], latest: u64) -> &'static str {
    let mean = history.iter().sum::<u64>() / history.len().max(1) as u64;
    match (mean, latest) {
        (0, 0) => "",
        (0, _) => "+",
        (_, 0) => "-",
        _ => {
            let diff = ((latest as f64).log10() - (mean as f64).log10()) as i64;
            match diff.clamp(-3, 3) {
                1 => "+",
                2 => "++",
                3 => "+++",
                -1 => "-",
                -2 => "--",
                -3 => "---",
                _ => "",
            }
        }
    }
}

/// A duration as Go prints one (`10s`, `1m0s`, `1.5s`, `500ms`).
pub(crate) fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (unit, size) = match nanos {
            n if n < 1_000 => ("ns", 1),
            n if n < 1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{}{unit}", decimal(nanos, size));
    }
    let secs = duration.as_secs();
    let (hours, minutes) = (secs / 3600, secs % 3600 / 60);
    let seconds = decimal(
        u128::from(secs % 60) * 1_000_000_000 + u128::from(duration.subsec_nanos()),
        1_000_000_000,
    );
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// `value / unit` with its fraction, trailing zeros dropped.
fn decimal(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let fraction = value % unit;
    if fraction == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{fraction:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests;
