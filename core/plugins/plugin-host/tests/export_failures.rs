//! The export failure policy: a failed call keeps the previous decision.

mod support;

use strait_decisions::cases::{default_link, remote_bb};
use strait_decisions::export::{ExportDecision, MirrorExtras, RemoteService};
use strait_plugin_host::{CallOutcome, ExportPlugin};

fn faulty_export(host: &strait_plugin_host::PluginHost) -> ExportPlugin {
    ExportPlugin::new(
        host,
        "export",
        &support::file(strait_default_plugins::fixtures::EXPORT_FAULTY),
    )
    .expect("faulty export plugin passes its smoke call")
}

fn named(name: &str) -> RemoteService {
    RemoteService {
        name: name.into(),
        ..remote_bb(&[])
    }
}

#[test]
fn a_failed_call_keeps_the_previous_decision() {
    let host = support::host();
    let plugin = faulty_export(&host);
    let previous = ExportDecision::Gateway(MirrorExtras::default());
    for (name, outcome) in [("trap", CallOutcome::Trap), ("loop", CallOutcome::Timeout)] {
        let verdict = plugin.decide(&named(name), &default_link(true), Some(&previous));
        assert_eq!(verdict.outcome, outcome, "{name}");
        assert_eq!(verdict.decision, previous, "{name}");
    }
}

#[test]
fn a_failed_first_call_is_not_exported_with_the_reason() {
    let host = support::host();
    let plugin = faulty_export(&host);
    let verdict = plugin.decide(&named("trap"), &default_link(true), None);
    assert_eq!(verdict.outcome, CallOutcome::Trap);
    let ExportDecision::NotExported(reason) = verdict.decision else {
        panic!("expected not exported, got {:?}", verdict.decision);
    };
    assert!(reason.contains("asked to trap"), "{reason}");
}

#[test]
fn extras_are_passed_on_except_reserved_keys() {
    let host = support::host();
    let plugin = faulty_export(&host);
    let verdict = plugin.decide(&named("bb"), &default_link(false), None);
    let ExportDecision::RemoteDiscovery(extras) = verdict.decision else {
        panic!("expected remote discovery, got {:?}", verdict.decision);
    };
    assert_eq!(
        extras.labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert!(
        !extras.labels.contains_key("mirror.linkerd.io/cluster-name"),
        "reserved key dropped"
    );
    assert_eq!(
        extras
            .annotations
            .get("example.com/exported-by")
            .map(String::as_str),
        Some("faulty")
    );
}
