//! Power of two choices over peak-EWMA costs, following discovery.

mod ewma;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;

pub use ewma::PeakEwma;

use crate::connect::EndpointTarget;
use crate::discovery::Resolved;

/// One endpoint of a balancer: its target, its latency estimate and load,
/// and what the caller keeps per endpoint (its connection pool).
pub(crate) struct Endpoint<E> {
    pub(crate) target: Arc<EndpointTarget>,
    pub(crate) extra: E,
    ewma: Mutex<PeakEwma>,
    pending: AtomicUsize,
}

impl<E> Endpoint<E> {
    fn cost(&self, now: Instant) -> f64 {
        let pending = self.pending.load(Ordering::Relaxed);
        self.ewma.lock().cost(pending, now)
    }

    /// Counts a request (or connection) as in flight until the returned
    /// guard is dropped.
    pub(crate) fn start(self: &Arc<Self>) -> InFlight<E> {
        self.start_at(Instant::now())
    }

    fn start_at(self: &Arc<Self>, now: Instant) -> InFlight<E> {
        self.pending.fetch_add(1, Ordering::Relaxed);
        InFlight {
            endpoint: self.clone(),
            started: now,
        }
    }

    /// Requests in flight on this endpoint now.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }
}

/// A request in flight on an endpoint; its latency feeds the estimate.
pub(crate) struct InFlight<E> {
    pub(crate) endpoint: Arc<Endpoint<E>>,
    started: Instant,
}

impl<E> InFlight<E> {
    /// The request (or connection) was answered now.
    pub(crate) fn answered(&self) {
        self.answered_at(None, Instant::now());
    }

    /// The request was answered now over a connection established at
    /// `connected_at`: when that is after the request started, the request
    /// waited for the connection, and only the time since counts. As in
    /// tower's balancer, which dispatches only to ready endpoints, the
    /// estimate is how fast an endpoint answers, not how long a first
    /// connection (TCP, TLS) takes; else every new endpoint looks slow for
    /// the first seconds of its life and takes little traffic.
    pub(crate) fn answered_over(&self, connected_at: Option<Instant>) {
        self.answered_at(connected_at, Instant::now());
    }

    fn answered_at(&self, connected_at: Option<Instant>, now: Instant) {
        let since = connected_at.map_or(self.started, |c| c.max(self.started));
        let rtt = now.saturating_duration_since(since);
        self.endpoint.ewma.lock().observe(rtt, now);
    }

    /// The endpoint failed the request (could not be reached): it is
    /// estimated at least `penalty` slow, so others are preferred while it
    /// is still listed.
    pub(crate) fn failed(&self, penalty: Duration) {
        self.endpoint.ewma.lock().observe(penalty, Instant::now());
    }
}

impl<E> Drop for InFlight<E> {
    fn drop(&mut self) {
        self.endpoint.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

type NewEndpoint<E> = Box<dyn Fn(&Arc<EndpointTarget>) -> E + Send + Sync>;

/// Balances over the endpoints discovery lists for one authority. An
/// endpoint that leaves the list takes no new requests; the requests
/// already on it hold it until they complete.
pub(crate) struct Balancer<E> {
    resolution: watch::Receiver<Resolved>,
    new_endpoint: NewEndpoint<E>,
    state: Mutex<State<E>>,
    rng: AtomicU64,
    decay: Duration,
}

struct State<E> {
    source: Option<Arc<BTreeMap<SocketAddr, EndpointTarget>>>,
    endpoints: Vec<Arc<Endpoint<E>>>,
}

impl<E> Balancer<E> {
    /// A balancer following `resolution`, building each endpoint's extra
    /// state with `new_endpoint` when it appears.
    pub(crate) fn new(
        resolution: watch::Receiver<Resolved>,
        new_endpoint: impl Fn(&Arc<EndpointTarget>) -> E + Send + Sync + 'static,
        decay: Duration,
    ) -> Self {
        static BALANCERS: AtomicU64 = AtomicU64::new(0);
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let seed = clock
            ^ (u64::from(std::process::id())).rotate_left(32)
            ^ BALANCERS.fetch_add(0x2545_F491_4F6C_DD1D, Ordering::Relaxed);
        Balancer {
            resolution,
            new_endpoint: Box::new(new_endpoint),
            state: Mutex::new(State {
                source: None,
                endpoints: Vec::new(),
            }),
            rng: AtomicU64::new(seed | 1),
            decay,
        }
    }

    /// What discovery says now.
    pub(crate) fn resolution(&self) -> watch::Receiver<Resolved> {
        self.resolution.clone()
    }

    /// Picks an endpoint other than `exclude`: the cheaper of two chosen at
    /// random. `None` when there is none.
    pub(crate) fn pick(&self, exclude: Option<SocketAddr>) -> Option<Arc<Endpoint<E>>> {
        self.pick_at(exclude, Instant::now())
    }

    fn pick_at(&self, exclude: Option<SocketAddr>, now: Instant) -> Option<Arc<Endpoint<E>>> {
        let mut state = self.state.lock();
        self.sync(&mut state, now);
        let candidates: Vec<&Arc<Endpoint<E>>> = state
            .endpoints
            .iter()
            .filter(|e| Some(e.target.addr) != exclude)
            .collect();
        match candidates.len() {
            0 => None,
            1 => Some(candidates[0].clone()),
            n => {
                let r = self.next_random();
                let a = (r % n as u64) as usize;
                let mut b = ((r >> 32) % (n as u64 - 1)) as usize;
                if b >= a {
                    b += 1;
                }
                let (ea, eb) = (candidates[a], candidates[b]);
                let chosen = if ea.cost(now) <= eb.cost(now) { ea } else { eb };
                Some(chosen.clone())
            }
        }
    }

    /// Brings the endpoint list in line with discovery: endpoints still
    /// listed keep their state (and connections), new ones start fresh.
    fn sync(&self, state: &mut State<E>, now: Instant) {
        let current = match &*self.resolution.borrow() {
            Resolved::Endpoints(map) => Some(map.clone()),
            _ => None,
        };
        let same = match (&state.source, &current) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if same {
            return;
        }
        let mut old: BTreeMap<SocketAddr, Arc<Endpoint<E>>> = state
            .endpoints
            .drain(..)
            .map(|e| (e.target.addr, e))
            .collect();
        let mut endpoints = Vec::new();
        for (addr, target) in current.iter().flat_map(|m| m.iter()) {
            match old.remove(addr) {
                Some(existing) if *existing.target == *target => endpoints.push(existing),
                _ => {
                    let target = Arc::new(target.clone());
                    endpoints.push(Arc::new(Endpoint {
                        extra: (self.new_endpoint)(&target),
                        target,
                        ewma: Mutex::new(PeakEwma::new(PeakEwma::DEFAULT_RTT, self.decay, now)),
                        pending: AtomicUsize::new(0),
                    }))
                }
            }
        }
        state.endpoints = endpoints;
        state.source = current;
    }

    /// The addresses balanced over now.
    #[cfg(test)]
    pub(crate) fn addrs(&self) -> Vec<SocketAddr> {
        let mut state = self.state.lock();
        self.sync(&mut state, Instant::now());
        state.endpoints.iter().map(|e| e.target.addr).collect()
    }

    fn next_random(&self) -> u64 {
        // splitmix64: cheap, and good enough to spread choices.
        let mut z = self
            .rng
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests;
