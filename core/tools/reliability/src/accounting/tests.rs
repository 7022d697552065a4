use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

/// The guide at 100 and 10 requests a second for 10 s, all as required.
fn clean() -> Window {
    Window {
        traffic: Traffic {
            allowed: LoadTotals {
                sent: 1000,
                ok: 1000,
                ..LoadTotals::default()
            },
            denied: LoadTotals {
                sent: 100,
                forbidden: 100,
                ..LoadTotals::default()
            },
        },
        took: Duration::from_secs(10),
        allowed_rate: 100,
        denied_rate: 10,
    }
}

#[test]
fn the_guide_served_as_its_policy_says_passes_and_prints_every_count() {
    let window = clean();
    assert!(window.ok());
    assert!(window.guide_decisions());
    assert_eq!(window.lost(), "nothing");
    assert_eq!(
        window.counts(),
        "slow-cooker 1000 sent (100/s of 100/s), 1000 2xx, 0 403, 0 other, 0 not sent; \
         slow-cooker-evil 100 sent (10/s of 10/s), 0 2xx, 100 403, 0 other, 0 not sent; over 10.0s"
    );
}

#[test]
fn a_502_for_the_refused_client_is_no_refusal() {
    // What the old accounting filed under "refused": every non-2xx.
    let mut window = clean();
    window.traffic.denied.forbidden = 95;
    window.traffic.denied.other_status = 5;
    assert!(!window.ok());
    assert!(!window.guide_decisions());
    assert_eq!(
        window.lost(),
        "5 denied requests not refused with 403 (5 other: 5 other status, 0 connection errors, \
         0 timeouts)"
    );
    // The test plugin's admit-all rule excuses 2xx, never a 502.
    assert!(!window.ok_with(Denied::RefusedOrAdmitted));
}

#[test]
fn a_timeout_or_a_connection_error_of_the_refused_client_fails_too() {
    for (timeouts, connection_errors) in [(1, 0), (0, 1)] {
        let mut window = clean();
        window.traffic.denied.forbidden = 99;
        window.traffic.denied.timeouts = timeouts;
        window.traffic.denied.connection_errors = connection_errors;
        assert!(!window.ok(), "{window:?}");
        assert!(
            window.lost().contains("not refused with 403"),
            "{}",
            window.lost()
        );
    }
}

#[test]
fn the_refused_client_admitted_is_a_breach_unless_a_plugin_admits_it() {
    let mut window = clean();
    window.traffic.denied.forbidden = 90;
    window.traffic.denied.ok = 10;
    assert!(!window.ok());
    assert!(
        window.lost().contains("10 denied requests admitted"),
        "{}",
        window.lost()
    );
    assert!(window.ok_with(Denied::RefusedOrAdmitted));
    assert_eq!(window.lost_with(Denied::RefusedOrAdmitted), "nothing");
}

#[test]
fn requests_not_sent_are_counted_and_fail_the_row_below_the_rate() {
    // A few ticks missed: reported, but the rate holds.
    let mut window = clean();
    window.traffic.allowed.sent = 990;
    window.traffic.allowed.ok = 990;
    window.traffic.allowed.not_sent = 10;
    assert!(window.ok());
    assert_eq!(window.lost(), "10 allowed requests not sent");
    assert!(
        window
            .counts()
            .contains("990 2xx, 0 403, 0 other, 10 not sent")
    );
    // A tenth of the schedule never sent: invisible before, a failure now.
    window.traffic.allowed.sent = 900;
    window.traffic.allowed.ok = 900;
    window.traffic.allowed.not_sent = 100;
    assert!(!window.ok());
    assert!(
        window
            .lost()
            .contains("slow-cooker sent 90 requests a second, under 95% of its 100"),
        "{}",
        window.lost()
    );
    // Not sent and not counted either (a stalled generator): the rate
    // still shows it.
    window.traffic.allowed.not_sent = 0;
    assert!(!window.rate_kept());
}

#[test]
fn a_failed_allowed_request_is_lost_whatever_its_answer() {
    for field in 0..4 {
        let mut window = clean();
        let a = &mut window.traffic.allowed;
        a.ok = 999;
        match field {
            0 => a.forbidden = 1,
            1 => a.other_status = 1,
            2 => a.connection_errors = 1,
            _ => a.timeouts = 1,
        }
        assert!(!window.ok(), "{window:?}");
        assert!(
            window.lost().starts_with("1 allowed requests failed"),
            "{}",
            window.lost()
        );
    }
}

#[test]
fn windows_add_up() {
    let a = clean();
    let both = a.plus(&a);
    assert_eq!(both.traffic.allowed.sent, 2000);
    assert_eq!(both.took, Duration::from_secs(20));
    assert!(both.ok());
}

/// Clients whose one request in flight hangs, then ends as a timeout once
/// `timed_out` is set.
struct Hanging {
    timed_out: Arc<AtomicBool>,
}

impl Clients for Hanging {
    fn traffic(&self) -> Traffic {
        let mut traffic = clean().traffic;
        traffic.allowed.sent += 1;
        if self.timed_out.load(Ordering::SeqCst) {
            traffic.allowed.timeouts += 1;
        }
        traffic
    }
    fn rates(&self) -> (u64, u64) {
        (0, 0)
    }
    fn client_timeout(&self) -> Duration {
        Duration::from_secs(10)
    }
    fn ended_before(&self, _mark: &Traffic) -> bool {
        self.timed_out.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_request_that_hangs_through_a_window_is_counted_in_it_when_it_fails() {
    let timed_out = Arc::new(AtomicBool::new(false));
    let clients = Hanging {
        timed_out: timed_out.clone(),
    };
    let ledger = Ledger::open(&clients);
    // Read at once, the window shows nothing wrong: the request has not
    // failed yet (what the drills read before).
    assert!(ledger.close().ok());
    // Closed drained, the window lasts until the hanging request ends.
    let fail_later = {
        let timed_out = timed_out.clone();
        async move {
            tokio::task::yield_now().await;
            timed_out.store(true, Ordering::SeqCst);
        }
    };
    let (window, ()) = tokio::join!(ledger.close_drained(), fail_later);
    assert_eq!(window.traffic.allowed.timeouts, 1, "{window:?}");
    assert!(!window.ok());
    // And the next window starts where that one ended: nothing counted twice.
    assert_eq!(ledger.close().traffic, Traffic::default());
}

#[test]
fn a_window_too_short_for_a_request_keeps_the_rate() {
    let mut window = clean();
    window.took = Duration::from_millis(5);
    window.traffic = Traffic::default();
    assert!(window.rate_kept());
    // A second with nothing sent does not.
    window.took = Duration::from_secs(1);
    assert!(!window.rate_kept());
}
