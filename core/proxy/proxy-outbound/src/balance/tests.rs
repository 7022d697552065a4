use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Balancer, PeakEwma};
use crate::connect::EndpointTarget;
use crate::discovery::Resolved;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn endpoints(addrs: &[&str]) -> Resolved {
    Resolved::Endpoints(Arc::new(
        addrs
            .iter()
            .map(|a| (addr(a), EndpointTarget::new(addr(a))))
            .collect::<BTreeMap<_, _>>(),
    ))
}

#[test]
fn the_peak_is_taken_at_once_and_decays_with_time() {
    let start = Instant::now();
    let mut ewma = PeakEwma::new(Duration::from_millis(10), Duration::from_secs(10), start);
    ewma.observe(Duration::from_millis(100), start);
    assert_eq!(ewma.estimate(start), 100_000_000.0);
    // A fast answer 10 s later (one time constant) pulls the estimate most
    // of the way down.
    let later = start + Duration::from_secs(10);
    ewma.observe(Duration::from_millis(10), later);
    let estimate = ewma.estimate(later);
    assert!(
        (estimate - (100e6 / std::f64::consts::E + 10e6 * (1.0 - 1.0 / std::f64::consts::E))).abs()
            < 1e3,
        "{estimate}"
    );
    // Pending requests multiply the cost.
    assert!((ewma.cost(3, later) - 4.0 * estimate).abs() < 1.0);
}

#[test]
fn a_slow_endpoint_gets_a_smaller_share_than_a_fast_one() {
    let (_tx, rx) = watch::channel(endpoints(&["10.0.0.1:80", "10.0.0.2:80"]));
    let balancer = Balancer::new(rx, |_| (), PeakEwma::DEFAULT_DECAY);
    let slow = addr("10.0.0.1:80");
    let mut now = Instant::now();
    let mut slow_picks = 0;
    let requests = 2_000;
    for _ in 0..requests {
        let endpoint = balancer.pick_at(None, now).unwrap();
        let in_flight = endpoint.start_at(now);
        let rtt = if endpoint.target.addr == slow {
            slow_picks += 1;
            Duration::from_millis(50)
        } else {
            Duration::from_millis(5)
        };
        // One request at a time, 1 ms apart.
        in_flight.answered_at(None, now + rtt);
        now += Duration::from_millis(1);
    }
    assert!(slow_picks > 0, "the slow endpoint was never tried again");
    assert!(
        slow_picks * 10 < requests,
        "the slow endpoint took {slow_picks} of {requests} requests"
    );
}

#[test]
fn pending_requests_spread_load_over_equal_endpoints() {
    let (_tx, rx) = watch::channel(endpoints(&["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]));
    let balancer = Balancer::new(rx, |_| (), PeakEwma::DEFAULT_DECAY);
    let now = Instant::now();
    // Requests that never finish: each pick must prefer the least loaded.
    let held: Vec<_> = (0..300)
        .map(|_| balancer.pick_at(None, now).unwrap().start_at(now))
        .collect();
    let mut counts = BTreeMap::new();
    for h in &held {
        *counts.entry(h.endpoint.target.addr).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 3);
    for (addr, count) in counts {
        assert!((80..=120).contains(&count), "{addr} took {count}");
    }
}

#[test]
fn endpoints_follow_discovery_and_removed_ones_finish_their_requests() {
    let (tx, rx) = watch::channel(Resolved::Pending);
    let balancer = Balancer::new(rx, |t| t.addr.port(), PeakEwma::DEFAULT_DECAY);
    assert!(balancer.pick(None).is_none());

    tx.send(endpoints(&["10.0.0.1:80", "10.0.0.2:80"])).unwrap();
    assert_eq!(balancer.addrs(), [addr("10.0.0.1:80"), addr("10.0.0.2:80")]);
    let first = balancer.pick(Some(addr("10.0.0.2:80"))).unwrap();
    assert_eq!(first.target.addr, addr("10.0.0.1:80"));
    let in_flight = first.start();

    tx.send(endpoints(&["10.0.0.2:80", "10.0.0.3:80"])).unwrap();
    assert_eq!(balancer.addrs(), [addr("10.0.0.2:80"), addr("10.0.0.3:80")]);
    for _ in 0..50 {
        assert_ne!(
            balancer.pick(None).unwrap().target.addr,
            addr("10.0.0.1:80")
        );
    }
    // The request on the removed endpoint still holds it.
    assert_eq!(in_flight.endpoint.pending(), 1);
    in_flight.answered();
    drop(in_flight);
    assert_eq!(first.pending(), 0);

    tx.send(Resolved::NoEndpoints { exists: true }).unwrap();
    assert!(balancer.pick(None).is_none());
}

#[test]
fn waiting_for_a_new_connection_does_not_count_as_latency() {
    let (_tx, rx) = watch::channel(endpoints(&["10.0.0.1:80", "10.0.0.2:80"]));
    let balancer = Balancer::new(rx, |_| (), PeakEwma::DEFAULT_DECAY);
    let now = Instant::now();
    let first = balancer.pick_at(None, now).unwrap();
    let other = balancer.pick_at(Some(first.target.addr), now).unwrap();
    // Both endpoints answer in 2 ms; the first request to `first` waited
    // 40 ms for its connection (TCP and TLS), the one to `other` reused one.
    // Counted, the wait would lift `first` above the 30 ms starting estimate.
    let waited = first.start_at(now);
    waited.answered_at(
        Some(now + Duration::from_millis(40)),
        now + Duration::from_millis(42),
    );
    let reused = other.start_at(now);
    reused.answered_at(
        Some(now - Duration::from_secs(1)),
        now + Duration::from_millis(2),
    );
    drop((waited, reused));
    let later = now + Duration::from_millis(42);
    let (a, b) = (first.cost(later), other.cost(later));
    assert!(
        (a - b).abs() < 1e5,
        "same answer time, different costs: {a} vs {b}"
    );
    // Without the connection's time, the wait counts.
    let counted = first.start_at(later);
    counted.answered_at(None, later + Duration::from_millis(42));
    drop(counted);
    let (a, b) = (
        first.cost(later + Duration::from_millis(42)),
        other.cost(later + Duration::from_millis(42)),
    );
    assert!(a > 1.3 * b, "{a} vs {b}");
}
