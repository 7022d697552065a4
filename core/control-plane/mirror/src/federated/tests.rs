use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::IntOrString;
use strait_api::labels::{self, RemoteMember};
use strait_decisions::export::MirrorExtras;

use super::local::is_local_member;
use super::members::{self, Member, Source};

fn bb(labels: &[(&str, &str)], ports: &[(&str, &str, i32)]) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("bb".into()),
            namespace: Some("mc-demo".into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            annotations: Some(BTreeMap::from([
                ("team".to_string(), "payments".to_string()),
                (
                    "service.kubernetes.io/topology-mode".to_string(),
                    "Auto".to_string(),
                ),
            ])),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            ports: Some(
                ports
                    .iter()
                    .map(|(name, protocol, port)| ServicePort {
                        name: Some(name.to_string()),
                        protocol: Some(protocol.to_string()),
                        port: *port,
                        target_port: Some(IntOrString::Int(*port)),
                        node_port: Some(30000),
                        ..Default::default()
                    })
                    .collect(),
            ),
            cluster_ip: Some("10.0.0.7".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn remote(cluster: &str) -> Member {
    Member::Remote(RemoteMember {
        service: "bb".into(),
        cluster: cluster.into(),
    })
}

fn source(service: &Service) -> Source<'_> {
    static NONE: MirrorExtras = MirrorExtras {
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    };
    Source {
        service,
        extras: &NONE,
        excludes_label: &|k: &str| k.starts_with("mirror.linkerd.io/"),
        excludes_annotation: &|k: &str| k.starts_with("mirror.linkerd.io/"),
    }
}

fn annotation<'a>(service: &'a Service, key: &str) -> Option<&'a str> {
    service
        .metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

const HTTP: &[(&str, &str, i32)] = &[("http", "TCP", 8080)];

#[test]
fn the_first_member_creates_the_federated_service_with_its_metadata() {
    let east = bb(&[("app", "bb"), (labels::FEDERATED, "member")], HTTP);
    let federated = members::joined(None, "mc-demo", &remote("east"), Some(&source(&east)));
    assert_eq!(federated.metadata.name.as_deref(), Some("bb-federated"));
    assert_eq!(federated.metadata.namespace.as_deref(), Some("mc-demo"));
    assert_eq!(
        annotation(&federated, labels::REMOTE_DISCOVERY),
        Some("bb@east")
    );
    assert_eq!(annotation(&federated, labels::LOCAL_DISCOVERY), None);
    let labels_map = federated.metadata.labels.clone().unwrap();
    assert_eq!(labels_map.get("app").map(String::as_str), Some("bb"));
    assert_eq!(
        labels_map.get(labels::MIRRORED_SERVICE).map(String::as_str),
        Some("true")
    );
    // The federated label is not copied, or the Service would select itself.
    assert!(!labels_map.contains_key(labels::FEDERATED));
    assert_eq!(annotation(&federated, "team"), Some("payments"));
    assert_eq!(
        annotation(&federated, "service.kubernetes.io/topology-mode"),
        None,
        "topology hints do not span clusters"
    );
    let ports = federated.spec.unwrap().ports.unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0].port, 8080);
    assert_eq!(ports[0].node_port, None, "node ports stay behind");
}

#[test]
fn members_join_once_and_leave_until_none_is_left() {
    let east = bb(&[], HTTP);
    let one = members::joined(None, "mc-demo", &remote("east"), Some(&source(&east)));
    let two = members::joined(Some(&one), "mc-demo", &remote("west"), None);
    let again = members::joined(Some(&two), "mc-demo", &remote("west"), None);
    assert_eq!(
        annotation(&again, labels::REMOTE_DISCOVERY),
        Some("bb@east,bb@west")
    );
    let local = members::joined(Some(&again), "mc-demo", &Member::Local("bb".into()), None);
    assert_eq!(annotation(&local, labels::LOCAL_DISCOVERY), Some("bb"));
    assert!(members::lists(&local, &remote("east")));
    assert!(members::lists(&local, &Member::Local("bb".into())));

    let without_east = members::left(&local, &remote("east")).expect("members remain");
    assert_eq!(
        annotation(&without_east, labels::REMOTE_DISCOVERY),
        Some("bb@west")
    );
    let without_west = members::left(&without_east, &remote("west")).expect("local remains");
    assert_eq!(annotation(&without_west, labels::REMOTE_DISCOVERY), None);
    assert!(
        members::left(&without_west, &Member::Local("bb".into())).is_none(),
        "the last member gone removes the federated service"
    );
}

#[test]
fn the_local_member_then_the_oldest_link_gives_the_metadata() {
    let east = bb(&[], HTTP);
    let federated = members::joined(None, "mc-demo", &remote("east"), Some(&source(&east)));
    assert!(members::is_source(None, &remote("west"), |_| false));
    // west's Link is younger than east's: east keeps the metadata.
    assert!(!members::is_source(
        Some(&federated),
        &remote("west"),
        |c| c == "east"
    ));
    // west's Link is older: west takes it.
    assert!(members::is_source(
        Some(&federated),
        &remote("west"),
        |_| false
    ));
    // east itself stays the source.
    assert!(members::is_source(
        Some(&federated),
        &remote("east"),
        |_| true
    ));
    let with_local = members::joined(
        Some(&federated),
        "mc-demo",
        &Member::Local("bb".into()),
        None,
    );
    assert!(!members::is_source(
        Some(&with_local),
        &remote("east"),
        |_| false
    ));
    assert!(members::is_source(
        Some(&with_local),
        &Member::Local("bb".into()),
        |_| true
    ));
}

#[test]
fn a_new_source_replaces_metadata_and_ports_but_keeps_the_members() {
    let east = bb(&[("app", "bb")], HTTP);
    let west = bb(&[("app", "bb-west")], &[("web", "TCP", 9090)]);
    let federated = members::joined(None, "mc-demo", &remote("east"), Some(&source(&east)));
    let federated = members::joined(
        Some(&federated),
        "mc-demo",
        &remote("west"),
        Some(&source(&west)),
    );
    assert_eq!(
        annotation(&federated, labels::REMOTE_DISCOVERY),
        Some("bb@east,bb@west")
    );
    assert_eq!(
        federated
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .get("app")
            .map(String::as_str),
        Some("bb-west")
    );
    let ports = federated.spec.as_ref().unwrap().ports.clone().unwrap();
    assert_eq!(ports[0].port, 9090);
    assert!(members::unchanged(
        &federated,
        &members::joined(
            Some(&federated),
            "mc-demo",
            &remote("west"),
            Some(&source(&west))
        )
    ));
}

#[test]
fn port_conflicts_name_each_difference() {
    let federated = bb(&[], &[("http", "TCP", 8080), ("admin", "TCP", 9990)]);
    assert!(members::port_conflicts(&federated, &federated).is_empty());

    let renamed = bb(&[], &[("web", "TCP", 8080), ("admin", "TCP", 9990)]);
    let conflicts = members::port_conflicts(&federated, &renamed);
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert!(
        conflicts[0].contains("8080") && conflicts[0].contains("\"web\""),
        "{conflicts:?}"
    );

    let udp = bb(&[], &[("http", "UDP", 8080), ("admin", "TCP", 9990)]);
    let conflicts = members::port_conflicts(&federated, &udp);
    assert!(
        conflicts[0].contains("UDP") && conflicts[0].contains("TCP"),
        "{conflicts:?}"
    );

    let fewer = bb(&[], &[("http", "TCP", 8080), ("metrics", "TCP", 9100)]);
    let conflicts = members::port_conflicts(&federated, &fewer);
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    assert!(conflicts[0].contains("9990") && conflicts[0].contains("missing"));
    assert!(conflicts[1].contains("9100") && conflicts[1].contains("not a port"));
}

#[test]
fn bad_annotation_entries_do_not_count_as_members() {
    let mut federated = bb(&[], HTTP);
    federated.metadata.annotations = Some(BTreeMap::from([(
        labels::REMOTE_DISCOVERY.to_string(),
        "bb@east,garbage".to_string(),
    )]));
    let (local, remote_members) = members::members_of(&federated);
    assert_eq!(local, None);
    assert_eq!(remote_members.len(), 1);
    assert!(members::is_federated(&federated));
    let cleaned = members::left(&federated, &remote("east"));
    assert!(cleaned.is_none(), "an unreadable entry is no member");
}

#[test]
fn only_selected_plain_services_are_local_members() {
    let selector = crate::config::convert_selector(&labels::default_federated_service_selector())
        .expect("the default selector is well formed");
    assert!(is_local_member(
        &bb(&[(labels::FEDERATED, "member")], HTTP),
        &selector
    ));
    assert!(!is_local_member(&bb(&[], HTTP), &selector));
    let mut headless = bb(&[(labels::FEDERATED, "member")], HTTP);
    headless.spec.as_mut().unwrap().cluster_ip = Some("None".into());
    assert!(!is_local_member(&headless, &selector));
    let mirror = bb(
        &[
            (labels::FEDERATED, "member"),
            (labels::MIRRORED_SERVICE, "true"),
        ],
        HTTP,
    );
    assert!(
        !is_local_member(&mirror, &selector),
        "a mirror is never a local member"
    );
}
