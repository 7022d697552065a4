//! Linkerd's peak-EWMA latency estimate.

use std::time::{Duration, Instant};

/// A latency estimate that jumps up to any slower observation at once and
/// decays towards faster ones (and towards zero while idle) with time
/// constant `decay`: a backend that slows down is avoided immediately, one
/// that recovers is tried again soon. The cost of sending one more request
/// to an endpoint is `estimate * (pending + 1)`.
#[derive(Clone, Debug)]
pub struct PeakEwma {
    estimate_ns: f64,
    updated: Instant,
    decay_ns: f64,
}

impl PeakEwma {
    /// Linkerd's decay time constant.
    pub const DEFAULT_DECAY: Duration = Duration::from_secs(10);

    /// Linkerd's estimate for an endpoint that has not answered yet.
    pub const DEFAULT_RTT: Duration = Duration::from_millis(30);

    /// An estimate starting at `initial`.
    pub fn new(initial: Duration, decay: Duration, now: Instant) -> Self {
        PeakEwma {
            estimate_ns: initial.as_nanos() as f64,
            updated: now,
            decay_ns: (decay.as_nanos() as f64).max(1.0),
        }
    }

    /// Records a round trip of `rtt` ending at `now`.
    pub fn observe(&mut self, rtt: Duration, now: Instant) {
        let rtt = rtt.as_nanos() as f64;
        if rtt > self.estimate_ns {
            self.estimate_ns = rtt;
        } else {
            let elapsed = now.saturating_duration_since(self.updated).as_nanos() as f64;
            let decay = (-elapsed / self.decay_ns).exp();
            self.estimate_ns = self.estimate_ns * decay + rtt * (1.0 - decay);
        }
        self.updated = self.updated.max(now);
    }

    /// The estimate at `now`, in nanoseconds, decayed since the last
    /// observation as if a zero round trip had been seen.
    pub fn estimate(&mut self, now: Instant) -> f64 {
        self.observe(Duration::ZERO, now);
        self.estimate_ns
    }

    /// The cost of one more request with `pending` already in flight.
    pub fn cost(&mut self, pending: usize, now: Instant) -> f64 {
        self.estimate(now) * (pending as f64 + 1.0)
    }
}
