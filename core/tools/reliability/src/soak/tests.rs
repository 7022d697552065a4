use std::time::Duration;

use strait_local_workloads::LoadTotals;

use super::*;
use crate::accounting::Traffic;

#[test]
fn durations_read_as_go_writes_them() {
    assert_eq!(seconds(Duration::from_secs(5)), "5s");
    assert_eq!(seconds(Duration::from_secs(120)), "2m");
    assert_eq!(seconds(Duration::from_secs(90)), "1m30s");
}

/// The client timeout and margin the drills run with.
const BLAME: Duration = Duration::from_secs(12);

/// A quarter-second sample ending at `ended`, the guide served as
/// required, with `failed` of slow-cooker's requests timed out.
fn sample(ended: Instant, failed: u64) -> Sample {
    Sample {
        ended,
        window: Window {
            traffic: Traffic {
                allowed: LoadTotals {
                    sent: 25,
                    ok: 25 - failed,
                    timeouts: failed,
                    ..LoadTotals::default()
                },
                denied: LoadTotals {
                    sent: 3,
                    forbidden: 3,
                    ..LoadTotals::default()
                },
            },
            took: SAMPLE_EVERY,
            allowed_rate: 100,
            denied_rate: 12,
        },
    }
}

fn done(kind: Kind, started: Instant, ended: Instant) -> Done {
    Done {
        kind,
        started,
        ended,
        outcome: Ok("x".into()),
    }
}

#[test]
fn a_loss_is_put_down_to_the_fault_it_follows_and_fails_that_row() {
    let start = Instant::now();
    let faults = vec![
        done(Kind::Restart, start, start + Duration::from_secs(2)),
        done(
            Kind::Push,
            start + Duration::from_secs(30),
            start + Duration::from_secs(31),
        ),
    ];
    let samples = vec![
        sample(start + Duration::from_secs(4), 3),
        sample(start + Duration::from_secs(30), 0),
    ];
    let restart = kind_row(Kind::Restart, "restarts".into(), &faults, &samples, BLAME);
    assert_eq!(restart.outcome, crate::Outcome::Fail);
    assert!(
        restart.lost.contains("3 allowed requests failed"),
        "{}",
        restart.lost
    );
    assert!(
        restart.requests.contains("3 timeouts"),
        "{}",
        restart.requests
    );
    let push = kind_row(Kind::Push, "pushes".into(), &faults, &samples, BLAME);
    assert_eq!(push.outcome, crate::Outcome::Pass, "{push:?}");
    assert_eq!(push.lost, "nothing");
}

#[test]
fn a_request_that_hangs_through_a_fault_and_times_out_after_it_is_blamed_on_it() {
    // The fault ends at 2 s; a request sent during it fails when the
    // client's 10 s timeout runs out, at 12 s: past the 5 s the soak used
    // to blame a fault for, within the timeout and margin it now does.
    let start = Instant::now();
    let faults = vec![done(Kind::Flap, start, start + Duration::from_secs(2))];
    let samples = vec![
        sample(start + Duration::from_secs(1), 0),
        sample(start + Duration::from_millis(12_100), 1),
    ];
    let row = kind_row(Kind::Flap, "flaps".into(), &faults, &samples, BLAME);
    assert_eq!(row.outcome, crate::Outcome::Fail, "{row:?}");
    assert!(
        row.lost.contains("1 allowed requests failed"),
        "{}",
        row.lost
    );
    let old = kind_row(
        Kind::Flap,
        "flaps".into(),
        &faults,
        &samples,
        Duration::from_secs(5),
    );
    assert_eq!(old.outcome, crate::Outcome::Pass, "{old:?}");
}

#[test]
fn a_fault_that_went_wrong_fails_its_row_even_with_nothing_lost() {
    let start = Instant::now();
    let faults = vec![Done {
        kind: Kind::Push,
        started: start,
        ended: start,
        outcome: Err("authz plugin soak-1 not active in bb's proxy after 10s".into()),
    }];
    let samples = vec![sample(start, 0)];
    let row = kind_row(Kind::Push, "pushes".into(), &faults, &samples, BLAME);
    assert_eq!(row.outcome, crate::Outcome::Fail);
    assert!(
        row.happened.contains("1 pushed, 0 active in bb's proxy")
            && row.happened.contains("not active in bb's proxy after 10s"),
        "{}",
        row.happened
    );
}
