//! Versions swapped under load: no call fails, each is answered by one whole version.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use strait_decisions::authz::{ClientTls, Decision, ResourceRef};
use strait_decisions::cases::{SLOW_COOKER, bb_authz, request};
use strait_plugin_host::CallOutcome;

const CALLERS: usize = 4;
const SWAPS: usize = 100;
/// How long the callers may take to answer a few calls on one version
/// before the test fails rather than hangs.
const PATIENCE: Duration = Duration::from_secs(10);

#[test]
fn swapping_100_times_under_4_callers_fails_no_call() {
    let host = support::host();
    let plugin = Arc::new(support::default_authz(&host));
    let default_digest = plugin.active().digest.clone();
    let faulty = support::file(strait_default_plugins::fixtures::AUTHZ_FAULTY);
    let default = support::bytes("built-in authz", strait_default_plugins::AUTHZ_DEFAULT);

    let stop = Arc::new(AtomicBool::new(false));
    let by_default = Arc::new(AtomicU64::new(0));
    let by_faulty = Arc::new(AtomicU64::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (plugin, stop) = (plugin.clone(), stop.clone());
            let (by_default, by_faulty) = (by_default.clone(), by_faulty.clone());
            let default_digest = default_digest.clone();
            thread::spawn(move || {
                let req = request(ClientTls::Mtls(SLOW_COOKER.into()), "10.0.0.1");
                let candidates = support::set(&[bb_authz()]);
                while !stop.load(Ordering::Relaxed) {
                    let verdict = plugin.authorize(req.clone(), &candidates);
                    assert_eq!(verdict.outcome, CallOutcome::Ok, "{:?}", verdict.decision);
                    // The decision must be the one the answering version gives.
                    let expected = if verdict.version.digest == default_digest {
                        by_default.fetch_add(1, Ordering::Relaxed);
                        ResourceRef::new("policy.linkerd.io", "authorizationpolicy", "bb-authz")
                    } else {
                        by_faulty.fetch_add(1, Ordering::Relaxed);
                        ResourceRef::new("", "default", "faulty-plugin")
                    };
                    assert_eq!(verdict.decision, Decision::Allow(expected));
                }
            })
        })
        .collect();

    for i in 0..SWAPS {
        let next = if i % 2 == 0 { &faulty } else { &default };
        let info = plugin.load(next).expect("valid version loads");
        assert_eq!(plugin.active(), info);
        // Let the callers run on each version for a moment. A caller that
        // stopped saw a wrong answer: it is joined below, with its panic.
        let answered = || by_default.load(Ordering::Relaxed) + by_faulty.load(Ordering::Relaxed);
        let (seen, deadline) = (answered(), Instant::now() + PATIENCE);
        while answered() < seen + CALLERS as u64 && !callers.iter().any(|c| c.is_finished()) {
            assert!(
                Instant::now() < deadline,
                "swap {i}: the callers answered {} calls in {PATIENCE:?}, not {CALLERS}",
                answered() - seen
            );
            thread::yield_now();
        }
        if callers.iter().any(|c| c.is_finished()) {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller
            .join()
            .expect("no caller saw a failed or mixed answer");
    }
    assert!(by_default.load(Ordering::Relaxed) > 0);
    assert!(by_faulty.load(Ordering::Relaxed) > 0);
}
