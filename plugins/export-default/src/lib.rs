//! strait's default export plugin.
//!
//! It lifts the Service and Link into `strait-decisions` types and applies
//! Linkerd's selectors (remote-discovery selector → pod to pod; gateway selector
//! → through the gateway, when the Link has one; an unset or empty selector
//! matches nothing), and Linkerd's federated selector (a non-headless Service
//! it matches joins `<service>-federated`), so the Wasm default and the native
//! reference are the same code.

use strait_decisions::export as native;
use strait_decisions::selector::{LabelSelector, Labels, Operator, Requirement};

wit_bindgen::generate!({
    path: "../../wit/export",
    world: "export-plugin",
});

use exports::strait::export_mode::exporter::Guest;
use strait::export_mode::types as wit;

struct DefaultExporter;

impl Guest for DefaultExporter {
    fn decide(service: wit::RemoteService, link: wit::Link) -> wit::Decision {
        let (service, link) = lift(service, link);
        match native::decide(&service, &link) {
            native::ExportDecision::NotExported(reason) => wit::Decision::NotExported(reason),
            native::ExportDecision::Gateway(extras) => {
                wit::Decision::Gateway(mirror_extras(extras))
            }
            native::ExportDecision::RemoteDiscovery(extras) => {
                wit::Decision::RemoteDiscovery(mirror_extras(extras))
            }
        }
    }

    fn federate(service: wit::RemoteService, link: wit::Link) -> wit::Federation {
        let (service, link) = lift(service, link);
        match native::decide_federated(&service, &link) {
            native::FederatedDecision::NotMember(reason) => wit::Federation::NotFederated(reason),
            native::FederatedDecision::Member(extras) => {
                wit::Federation::Federated(mirror_extras(extras))
            }
        }
    }
}

/// The call's inputs as the native reference takes them; the ports play no
/// part in Linkerd's rules.
fn lift(service: wit::RemoteService, link: wit::Link) -> (native::RemoteService, native::Link) {
    let service = native::RemoteService {
        namespace: service.namespace,
        name: service.name,
        labels: labels(service.labels),
        annotations: labels(service.annotations),
        ports: Vec::new(),
        headless: service.headless,
    };
    let link = native::Link {
        name: link.name,
        target_cluster_name: link.target_cluster_name,
        selector: link.selector.map(selector),
        remote_discovery_selector: link.remote_discovery_selector.map(selector),
        has_gateway: link.has_gateway,
        federated_selector: link.federated_selector.map(selector),
    };
    (service, link)
}

export!(DefaultExporter);

fn labels(list: Vec<wit::Label>) -> Labels {
    list.into_iter().map(|l| (l.key, l.value)).collect()
}

fn unlabels(map: Labels) -> Vec<wit::Label> {
    map.into_iter()
        .map(|(key, value)| wit::Label { key, value })
        .collect()
}

fn mirror_extras(extras: native::MirrorExtras) -> wit::MirrorExtras {
    wit::MirrorExtras {
        labels: unlabels(extras.labels),
        annotations: unlabels(extras.annotations),
    }
}

fn selector(s: wit::LabelSelector) -> LabelSelector {
    LabelSelector {
        match_labels: labels(s.match_labels),
        match_expressions: s
            .match_expressions
            .into_iter()
            .map(|r| Requirement {
                key: r.key,
                operator: match r.operator {
                    wit::SelectorOperator::In => Operator::In,
                    wit::SelectorOperator::NotIn => Operator::NotIn,
                    wit::SelectorOperator::Exists => Operator::Exists,
                    wit::SelectorOperator::DoesNotExist => Operator::DoesNotExist,
                },
                values: r.values,
            })
            .collect(),
    }
}
