use super::*;
use crate::cases::{ExportMode, default_link, export_cases, remote_bb};

#[test]
fn reference_cases_hold_natively() {
    for case in export_cases() {
        let mode = match decide(&case.service, &case.link) {
            ExportDecision::NotExported(_) => ExportMode::NotExported,
            ExportDecision::Gateway(_) => ExportMode::Gateway,
            ExportDecision::RemoteDiscovery(_) => ExportMode::RemoteDiscovery,
        };
        assert_eq!(mode, case.expected, "{}", case.name);
        let member = matches!(
            decide_federated(&case.service, &case.link),
            FederatedDecision::Member(_)
        );
        assert_eq!(member, case.federated, "{} (federated)", case.name);
    }
}

#[test]
fn refusals_say_why() {
    let svc = remote_bb(&[("mirror.linkerd.io/exported", "true")]);
    let ExportDecision::NotExported(reason) = decide(&svc, &default_link(false)) else {
        panic!("expected not exported");
    };
    assert!(reason.contains("no gateway"), "{reason}");
    assert!(reason.contains("mc-demo/bb"), "{reason}");
    let ExportDecision::NotExported(reason) = decide(&remote_bb(&[]), &default_link(true)) else {
        panic!("expected not exported");
    };
    assert!(reason.contains("matches no export selector"), "{reason}");
}

#[test]
fn federated_refusals_say_why() {
    let member = [("mirror.linkerd.io/federated", "member")];
    let headless = RemoteService {
        headless: true,
        ..remote_bb(&member)
    };
    let FederatedDecision::NotMember(reason) = decide_federated(&headless, &default_link(false))
    else {
        panic!("a headless service joined");
    };
    assert!(reason.contains("headless"), "{reason}");
    let FederatedDecision::NotMember(reason) =
        decide_federated(&remote_bb(&[]), &default_link(false))
    else {
        panic!("an unlabelled service joined");
    };
    assert!(reason.contains("federated service selector"), "{reason}");
}
