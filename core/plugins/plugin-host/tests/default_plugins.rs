//! The default plugins, run through the host on the shared reference cases.

mod support;

use strait_decisions::authz::Decision;
use strait_decisions::cases::{ExportMode, authz_cases, default_link, export_cases, remote_bb};
use strait_decisions::export::{ExportDecision, FederatedDecision};
use strait_plugin_host::CallOutcome;

#[test]
fn authz_default_follows_every_reference_case() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    for case in authz_cases() {
        let verdict = plugin.authorize(case.request.clone(), &support::set(&case.candidates));
        assert_eq!(verdict.outcome, CallOutcome::Ok, "{}", case.name);
        match (&case.allowed_by, &verdict.decision) {
            (Some(expected), Decision::Allow(got)) => assert_eq!(expected, got, "{}", case.name),
            (None, Decision::Deny(reason)) => assert!(!reason.is_empty(), "{}", case.name),
            (expected, got) => panic!("{}: expected {expected:?}, got {got:?}", case.name),
        }
    }
}

#[test]
fn authz_default_matches_the_native_rules_exactly() {
    let host = support::host();
    let plugin = support::default_authz(&host);
    for case in authz_cases() {
        let native = strait_decisions::authz::authorize(&case.request, &case.candidates);
        let wasm = plugin
            .authorize(case.request.clone(), &support::set(&case.candidates))
            .decision;
        assert_eq!(native, wasm, "{}", case.name);
    }
}

#[test]
fn export_default_follows_every_reference_case() {
    let host = support::host();
    let plugin = support::default_export(&host);
    for case in export_cases() {
        let verdict = plugin.decide(&case.service, &case.link, None);
        assert_eq!(verdict.outcome, CallOutcome::Ok, "{}", case.name);
        let mode = match &verdict.decision {
            ExportDecision::NotExported(reason) => {
                assert!(!reason.is_empty(), "{}: a refusal says why", case.name);
                ExportMode::NotExported
            }
            ExportDecision::Gateway(_) => ExportMode::Gateway,
            ExportDecision::RemoteDiscovery(_) => ExportMode::RemoteDiscovery,
        };
        assert_eq!(mode, case.expected, "{}", case.name);
        let federated = plugin.federate(&case.service, &case.link, None);
        assert_eq!(federated.outcome, CallOutcome::Ok, "{}", case.name);
        let native = strait_decisions::export::decide_federated(&case.service, &case.link);
        assert_eq!(federated.decision, native, "{} (federated)", case.name);
        assert_eq!(
            matches!(federated.decision, FederatedDecision::Member(_)),
            case.federated,
            "{} (federated)",
            case.name
        );
    }
}

#[test]
fn export_default_explains_a_gatewayless_refusal() {
    let host = support::host();
    let plugin = support::default_export(&host);
    let service = remote_bb(&[("mirror.linkerd.io/exported", "true")]);
    let verdict = plugin.decide(&service, &default_link(false), None);
    let ExportDecision::NotExported(reason) = verdict.decision else {
        panic!("expected not exported, got {:?}", verdict.decision);
    };
    assert!(reason.contains("no gateway"), "{reason}");
}

#[test]
fn calls_are_counted_for_the_active_version_and_smoke_calls_are_not() {
    use prometheus_client::registry::Registry;
    let host = support::host();
    let plugin = support::default_authz(&host);
    let req = strait_decisions::cases::request(
        strait_decisions::authz::ClientTls::Mtls(strait_decisions::cases::SLOW_COOKER.into()),
        "10.0.0.1",
    );
    for _ in 0..3 {
        plugin.authorize(
            req.clone(),
            &support::set(&[strait_decisions::cases::bb_authz()]),
        );
    }
    let mut registry = Registry::default();
    host.metrics().register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let label = &plugin.active().label;
    let line = format!(r#"plugin_calls_total{{plugin="authz",version="{label}",outcome="ok"}} 3"#);
    assert!(text.contains(&line), "{line} in\n{text}");
    let active = format!(r#"plugin_active_version{{plugin="authz",version="{label}"}} 1"#);
    assert!(text.contains(&active), "{text}");
}
