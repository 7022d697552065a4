use strait_decisions::export::{ExportDecision, MirrorExtras};
use strait_decisions::selector::Operator;
use strait_plugin_host::PluginKind;

use super::*;
use crate::{Cases, load};

fn one(text: &str) -> ExportCase {
    match load(text, PluginKind::Export) {
        Ok(Cases::Export(mut cases)) if cases.len() == 1 => cases.remove(0),
        other => panic!("expected one export case, got {other:?}"),
    }
}

fn error(text: &str) -> String {
    match load(text, PluginKind::Export) {
        Err(e) => e.to_string(),
        Ok(cases) => panic!("expected an error, got {cases:?}"),
    }
}

#[test]
fn every_field_is_read() {
    let case = one(r#"
- name: full
  service:
    name: web
    namespace: mc-demo
    labels: {app: web}
    annotations: {strait.io/export: gateway}
    ports: [{name: http, port: 8080, targetPort: 8080}, {port: 53, protocol: UDP, targetPort: dns}]
    headless: true
  link:
    name: east
    gateway: true
    selector: {matchLabels: {mirror.linkerd.io/exported: "true"}}
    remoteDiscoverySelector:
      matchExpressions: [{key: tier, operator: NotIn, values: [db]}]
  expect: {not-exported: "no gateway"}
"#);
    assert_eq!(
        (case.service.name.as_str(), case.service.namespace.as_str()),
        ("web", "mc-demo")
    );
    assert_eq!(
        case.service.labels.get("app").map(String::as_str),
        Some("web")
    );
    assert_eq!(
        case.service
            .annotations
            .get("strait.io/export")
            .map(String::as_str),
        Some("gateway")
    );
    assert_eq!(case.service.ports.len(), 2);
    assert_eq!(case.service.ports[0].protocol, "TCP");
    assert_eq!(case.service.ports[0].target_port, "8080");
    assert_eq!(case.service.ports[1].target_port, "dns");
    assert!(case.service.headless);
    assert_eq!(case.link.target_cluster_name, "east");
    assert!(case.link.has_gateway);
    let selector = case.link.selector.as_ref().unwrap();
    assert_eq!(
        selector
            .match_labels
            .get("mirror.linkerd.io/exported")
            .map(String::as_str),
        Some("true")
    );
    let remote = case.link.remote_discovery_selector.as_ref().unwrap();
    assert_eq!(remote.match_expressions[0].operator, Operator::NotIn);
    assert_eq!(
        case.expect,
        ExportExpect::NotExported(Some("no gateway".into()))
    );
}

#[test]
fn selectors_left_out_are_absent() {
    let case = one(
        "- name: m\n  service: {name: a, namespace: b}\n  link: {name: l, targetClusterName: west}\n  expect: not-exported\n",
    );
    assert_eq!(case.link.selector, None);
    assert_eq!(case.link.remote_discovery_selector, None);
    assert!(!case.link.has_gateway);
    assert_eq!(case.link.target_cluster_name, "west");
}

#[test]
fn malformed_fields_are_named_with_their_path() {
    let cases = [
        (
            "  service: {name: a}\n  link: {name: l}\n  expect: gateway\n",
            "service.namespace: missing",
        ),
        (
            "  service: {name: a, namespace: b, labels: {x: 1}}\n  link: {name: l}\n  expect: gateway\n",
            "service.labels.x: expected a string",
        ),
        (
            "  service: {name: a, namespace: b, ports: [{name: p}]}\n  link: {name: l}\n  expect: gateway\n",
            "service.ports[0].port: missing",
        ),
        (
            "  service: {name: a, namespace: b}\n  link: {name: l, gateway: yes please}\n  expect: gateway\n",
            "link.gateway: expected true or false",
        ),
        (
            "  service: {name: a, namespace: b}\n  link: {name: l, selector: {matchExpressions: [{key: k, operator: Is}]}}\n  expect: gateway\n",
            "link.selector.matchExpressions[0].operator: unknown operator",
        ),
        (
            "  service: {name: a, namespace: b}\n  link: {name: l, selector: {matchExpressions: [{key: k, operator: In}]}}\n  expect: gateway\n",
            "link.selector: k: In and NotIn need at least one value",
        ),
        (
            "  service: {name: a, namespace: b}\n  link: {name: l}\n  expect: exported\n",
            "expect: \"exported\" is not an export expectation",
        ),
        (
            "  service: {name: a, namespace: b}\n  link: {name: l}\n",
            "expect: missing",
        ),
    ];
    for (body, wanted) in cases {
        let err = error(&format!("- name: bad\n{body}"));
        assert!(err.starts_with("case 0 (\"bad\"): "), "{err}");
        assert!(err.contains(wanted), "{err:?} should contain {wanted:?}");
    }
}

#[test]
fn expectations_compare_decisions() {
    let rd = ExportDecision::RemoteDiscovery(MirrorExtras::default());
    let gw = ExportDecision::Gateway(MirrorExtras::default());
    let no = ExportDecision::NotExported("no selector matches".into());
    assert!(satisfies(&ExportExpect::RemoteDiscovery, &rd));
    assert!(!satisfies(&ExportExpect::RemoteDiscovery, &gw));
    assert!(satisfies(&ExportExpect::Gateway, &gw));
    assert!(!satisfies(&ExportExpect::Gateway, &no));
    assert!(satisfies(&ExportExpect::NotExported(None), &no));
    assert!(satisfies(
        &ExportExpect::NotExported(Some("selector".into())),
        &no
    ));
    assert!(!satisfies(
        &ExportExpect::NotExported(Some("gateway".into())),
        &no
    ));
    assert!(!satisfies(&ExportExpect::NotExported(None), &rd));
    assert_eq!(describe_decision(&no), "not-exported (no selector matches)");
}

#[test]
fn federation_is_read_and_optional() {
    let case = one(
        "- name: f\n  service: {name: a, namespace: b}\n  link: {name: l, federatedServiceSelector: {matchLabels: {mirror.linkerd.io/federated: member}}}\n  expect: not-exported\n  federated: true\n",
    );
    assert_eq!(case.federated, Some(true));
    let selector = case.link.federated_selector.as_ref().unwrap();
    assert_eq!(
        selector
            .match_labels
            .get("mirror.linkerd.io/federated")
            .map(String::as_str),
        Some("member")
    );
    let case = one(
        "- name: m\n  service: {name: a, namespace: b}\n  link: {name: l}\n  expect: not-exported\n",
    );
    assert_eq!(case.federated, None);
    assert_eq!(case.link.federated_selector, None);
    let message = error(
        "- name: m\n  service: {name: a, namespace: b}\n  link: {name: l}\n  expect: not-exported\n  federated: maybe\n",
    );
    assert!(message.contains("federated"), "{message}");
}
