use super::*;
use crate::cases::{SLOW_COOKER, authz_cases, bb_authz, request};

#[test]
fn reference_cases_hold_natively() {
    for case in authz_cases() {
        let decision = authorize(&case.request, &case.candidates);
        match (&case.allowed_by, &decision) {
            (Some(expected), Decision::Allow(got)) => assert_eq!(expected, got, "{}", case.name),
            (None, Decision::Deny(reason)) => assert!(!reason.is_empty(), "{}", case.name),
            _ => panic!(
                "{}: expected {:?}, got {decision:?}",
                case.name, case.allowed_by
            ),
        }
    }
}

#[test]
fn deny_reason_says_how_many_candidates_refused() {
    let req = request(
        ClientTls::Mtls("evil.ns.serviceaccount.identity.linkerd.cluster.local".into()),
        "10.1.1.1",
    );
    let Decision::Deny(reason) = authorize(&req, &[bb_authz(), bb_authz()]) else {
        panic!("expected a denial");
    };
    assert_eq!(reason, "none of the 2 authorizations admits the client");
    let Decision::Deny(reason) = authorize(
        &request(ClientTls::Mtls(SLOW_COOKER.into()), "10.1.1.1"),
        &[],
    ) else {
        panic!("expected a denial");
    };
    assert!(reason.contains("no authorizations"), "{reason}");
}

#[test]
fn candidate_sets_have_distinct_ids_and_read_as_slices() {
    let a = CandidateSet::new(vec![bb_authz()]);
    let b = CandidateSet::new(vec![bb_authz()]);
    assert_ne!(a.id(), b.id());
    assert_eq!(a.clone().id(), a.id());
    assert_eq!(a.len(), 1);
    assert_eq!(a[0], b[0]);
}
