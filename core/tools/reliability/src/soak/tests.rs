use std::time::Duration;

use super::*;

#[test]
fn durations_read_as_go_writes_them() {
    assert_eq!(seconds(Duration::from_secs(5)), "5s");
    assert_eq!(seconds(Duration::from_secs(120)), "2m");
    assert_eq!(seconds(Duration::from_secs(90)), "1m30s");
}

#[test]
fn a_loss_is_put_down_to_the_fault_it_follows_and_fails_that_row() {
    let start = Instant::now();
    let faults = vec![
        Done {
            kind: Kind::Restart,
            started: start,
            ended: start + Duration::from_secs(2),
            outcome: Ok("x".into()),
        },
        Done {
            kind: Kind::Push,
            started: start + Duration::from_secs(30),
            ended: start + Duration::from_secs(31),
            outcome: Ok("v".into()),
        },
    ];
    let loss = Traffic {
        allowed_failed: 3,
        ..Traffic::default()
    };
    let losses = vec![(start + Duration::from_secs(4), loss)];
    let restart = kind_row(Kind::Restart, "restarts".into(), &faults, &losses);
    assert_eq!(restart.outcome, crate::Outcome::Fail);
    assert!(
        restart.lost.contains("3 failed allowed"),
        "{}",
        restart.lost
    );
    let push = kind_row(Kind::Push, "pushes".into(), &faults, &losses);
    assert_eq!(push.outcome, crate::Outcome::Pass);
    assert_eq!(push.lost, "nothing");
}

#[test]
fn a_fault_that_went_wrong_fails_its_row_even_with_nothing_lost() {
    let start = Instant::now();
    let faults = vec![Done {
        kind: Kind::Push,
        started: start,
        ended: start,
        outcome: Err("authz plugin soak-1 not active after 10s".into()),
    }];
    let row = kind_row(Kind::Push, "pushes".into(), &faults, &[]);
    assert_eq!(row.outcome, crate::Outcome::Fail);
    assert!(
        row.happened.contains("not active after 10s"),
        "{}",
        row.happened
    );
}
