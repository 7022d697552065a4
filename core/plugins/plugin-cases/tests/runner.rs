//! The runner: passing and failing cases, the report's format, failed calls
//! and plugins of the wrong kind.

use std::path::Path;

use strait_default_plugins::fixtures;
use strait_plugin_cases::{CaseResult, detect_kind, load, run};
use strait_plugin_host::{
    HostConfig, PluginError, PluginHost, PluginKind, PluginMetrics, PluginSource,
};

fn host() -> PluginHost {
    PluginHost::new(HostConfig::default(), PluginMetrics::new()).unwrap()
}

fn plugin(path: &str) -> strait_plugin_host::PluginBytes {
    PluginSource::File(Path::new(path)).read().unwrap()
}

const MIXED: &str = r#"
- name: plaintext is admitted
  client: plaintext
  candidates: [{reference: default/all-unauthenticated, authentication: unauthenticated}]
  expect: {allow: default/all-unauthenticated}
- name: wrongly expects a deny
  client: plaintext
  candidates: [{reference: default/all-unauthenticated, authentication: unauthenticated}]
  expect: deny
- name: wrongly expects another reference
  client: plaintext
  candidates: [{reference: default/all-unauthenticated, authentication: unauthenticated}]
  expect: {allow: authorizationpolicy/x}
"#;

#[test]
fn passing_and_failing_cases_are_reported_in_order() {
    let cases = load(MIXED, PluginKind::Authz).unwrap();
    let report = run(&host(), &plugin(fixtures::AUTHZ_DEFAULT), &cases).unwrap();
    assert_eq!(
        report.results,
        [
            CaseResult {
                name: "plaintext is admitted".into(),
                failure: None
            },
            CaseResult {
                name: "wrongly expects a deny".into(),
                failure: Some(("deny".into(), "allow default/all-unauthenticated".into()))
            },
            CaseResult {
                name: "wrongly expects another reference".into(),
                failure: Some((
                    "allow authorizationpolicy/x".into(),
                    "allow default/all-unauthenticated".into()
                ))
            },
        ]
    );
    assert_eq!((report.passed(), report.failed()), (1, 2));
    assert_eq!(
        report.to_string(),
        "PASS plaintext is admitted\n\
         FAIL wrongly expects a deny: expected deny, got allow default/all-unauthenticated\n\
         FAIL wrongly expects another reference: expected allow authorizationpolicy/x, got allow default/all-unauthenticated\n\
         1 passed, 2 failed\n"
    );
}

#[test]
fn a_trapping_call_fails_even_a_deny_case() {
    // The faulty plugin traps on /trap; the host denies, but the case must
    // not pass on the host's fallback.
    let text = "- name: trap\n  client: plaintext\n  request: {path: /trap}\n  expect: deny\n\
                - name: fine\n  client: plaintext\n  expect: {allow: default/faulty-plugin}\n";
    let cases = load(text, PluginKind::Authz).unwrap();
    let report = run(&host(), &plugin(fixtures::AUTHZ_FAULTY), &cases).unwrap();
    let (expected, got) = report.results[0].failure.clone().expect("the trap fails");
    assert_eq!(expected, "deny");
    assert!(got.starts_with("a failed call (trap;"), "{got}");
    assert_eq!(report.results[1].failure, None, "{report}");
}

#[test]
fn export_failures_are_failed_calls() {
    let text = "- name: trap\n  service: {name: trap, namespace: x}\n  link: {name: l}\n  expect: not-exported\n";
    let cases = load(text, PluginKind::Export).unwrap();
    let report = run(&host(), &plugin(fixtures::EXPORT_FAULTY), &cases).unwrap();
    let (_, got) = report.results[0].failure.clone().expect("the trap fails");
    assert!(got.starts_with("a failed call (trap;"), "{got}");
}

#[test]
fn the_kind_is_told_from_the_component() {
    let host = host();
    assert_eq!(
        detect_kind(&host, &plugin(fixtures::AUTHZ_DEFAULT)).unwrap(),
        PluginKind::Authz
    );
    assert_eq!(
        detect_kind(&host, &plugin(fixtures::EXPORT_DEFAULT)).unwrap(),
        PluginKind::Export
    );
    let not_a_plugin = strait_plugin_host::PluginBytes {
        origin: "junk".into(),
        bytes: b"not wasm".to_vec(),
        version: None,
    };
    assert!(detect_kind(&host, &not_a_plugin).is_err());
}

#[test]
fn cases_for_the_wrong_kind_of_plugin_do_not_run() {
    // Export cases against an authz plugin: the plugin refuses to load as an
    // export plugin, naming the world it implements.
    let text =
        "- name: svc\n  service: {name: a, namespace: b}\n  link: {name: l}\n  expect: gateway\n";
    let cases = load(text, PluginKind::Export).unwrap();
    match run(&host(), &plugin(fixtures::AUTHZ_DEFAULT), &cases) {
        Err(PluginError::WrongWorld { kind, reason, .. }) => {
            assert_eq!(kind, PluginKind::Export);
            assert!(reason.contains("strait:authz"), "{reason}");
        }
        other => panic!("expected a wrong-world error, got {other:?}"),
    }
}
