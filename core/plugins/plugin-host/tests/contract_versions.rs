//! Both versions of the export contract load and decide: a plugin built
//! against 0.1 (before federated Services) keeps working on a host of 0.2,
//! and gets Linkerd's rule for federated members.

mod support;

use strait_decisions::cases::{default_link, remote_bb};
use strait_decisions::export::{ExportDecision, FederatedDecision, Link, RemoteService};
use strait_decisions::selector::LabelSelector;
use strait_plugin_host::{CallOutcome, ExportPlugin, PluginHost, PluginKind};

fn v0_1(host: &PluginHost) -> ExportPlugin {
    ExportPlugin::new(
        host,
        "export",
        &support::file(strait_default_plugins::fixtures::EXPORT_V0_1),
    )
    .expect("a plugin of contract 0.1 loads")
}

fn annotated(labels: &[(&str, &str)]) -> RemoteService {
    let mut service = remote_bb(labels);
    service
        .annotations
        .insert("strait.io/export-v0-1".into(), "yes".into());
    service
}

#[test]
fn a_plugin_of_contract_0_1_loads_and_decides() {
    let host = support::host();
    let plugin = v0_1(&host);
    let verdict = plugin.decide(&annotated(&[]), &default_link(false), None);
    assert_eq!(verdict.outcome, CallOutcome::Ok);
    let ExportDecision::RemoteDiscovery(extras) = verdict.decision else {
        panic!("expected remote discovery, got {:?}", verdict.decision);
    };
    assert_eq!(
        extras.labels.get("contract").map(String::as_str),
        Some("0.1")
    );
    let verdict = plugin.decide(&remote_bb(&[]), &default_link(false), None);
    let ExportDecision::NotExported(reason) = verdict.decision else {
        panic!("expected not exported, got {:?}", verdict.decision);
    };
    assert!(reason.contains("strait.io/export-v0-1"), "{reason}");
}

#[test]
fn a_plugin_of_contract_0_1_gets_linkerds_federated_rule() {
    let host = support::host();
    let plugin = v0_1(&host);
    let member = annotated(&[("mirror.linkerd.io/federated", "member")]);
    let verdict = plugin.federate(&member, &default_link(false), None);
    assert_eq!(verdict.outcome, CallOutcome::Ok);
    assert_eq!(
        verdict.decision,
        FederatedDecision::Member(Default::default())
    );
    let elsewhere = Link {
        federated_selector: Some(LabelSelector::from_labels([("federate", "yes")])),
        ..default_link(false)
    };
    let verdict = plugin.federate(&member, &elsewhere, None);
    assert!(
        matches!(verdict.decision, FederatedDecision::NotMember(_)),
        "{:?}",
        verdict.decision
    );
    // A member may be mirrored too: the two questions are independent.
    let both = plugin.decide(&member, &default_link(false), None);
    assert!(matches!(both.decision, ExportDecision::RemoteDiscovery(_)));
}

#[test]
fn a_plugin_of_contract_0_2_decides_federation_itself() {
    let host = support::host();
    let plugin = ExportPlugin::new(
        &host,
        "export",
        &support::file(strait_default_plugins::fixtures::EXPORT_FAULTY),
    )
    .expect("the faulty export plugin passes its smoke call");
    // The faulty plugin makes every Service a member, whatever the Link's
    // selector: the plugin decides, not the host's rule.
    let verdict = plugin.federate(&remote_bb(&[]), &default_link(false), None);
    assert_eq!(verdict.outcome, CallOutcome::Ok);
    let FederatedDecision::Member(extras) = verdict.decision else {
        panic!("expected a member, got {:?}", verdict.decision);
    };
    assert_eq!(
        extras.labels.get("team").map(String::as_str),
        Some("payments")
    );
    assert!(
        !extras.labels.contains_key("mirror.linkerd.io/cluster-name"),
        "reserved keys are dropped"
    );
    let trap = RemoteService {
        name: "trap".into(),
        ..remote_bb(&[])
    };
    let previous = FederatedDecision::Member(Default::default());
    let verdict = plugin.federate(&trap, &default_link(false), Some(&previous));
    assert_eq!(verdict.outcome, CallOutcome::Trap);
    assert_eq!(
        verdict.decision, previous,
        "a failed call keeps the previous decision"
    );
}

#[test]
fn both_contracts_pass_the_host_check() {
    let host = support::host();
    for path in [
        strait_default_plugins::fixtures::EXPORT_V0_1,
        strait_default_plugins::fixtures::EXPORT_DEFAULT,
    ] {
        host.check(PluginKind::Export, &support::file(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}
