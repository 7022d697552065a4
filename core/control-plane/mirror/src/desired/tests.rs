use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::link::{Link, LinkSpec};
use strait_decisions::export::{ExportDecision, MirrorExtras};

use super::*;

fn link_config(gateway: bool) -> LinkConfig {
    let mut spec = LinkSpec {
        target_cluster_name: Some("east".into()),
        excluded_labels: Some(vec!["secret".into()]),
        ..Default::default()
    };
    if gateway {
        spec.gateway_address = Some("192.0.2.1".into());
        spec.gateway_port = Some("4143".into());
        spec.gateway_identity = Some("gw".into());
    }
    let mut link = Link::new("east", spec);
    link.metadata.namespace = Some("linkerd".into());
    LinkConfig::from_link(&link).unwrap()
}

fn remote() -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("bb".into()),
            namespace: Some("mc-demo".into()),
            resource_version: Some("42".into()),
            labels: Some(BTreeMap::from([
                ("app".into(), "bb".into()),
                ("secret".into(), "x".into()),
                ("mirror.linkerd.io/exported".into(), "true".into()),
            ])),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn the_plugin_sees_the_remote_service() {
    let seen = remote_service(&remote());
    assert_eq!(
        (seen.namespace.as_str(), seen.name.as_str()),
        ("mc-demo", "bb")
    );
    assert!(seen.headless);
    assert_eq!(seen.ports[0].port, 8080);
    assert_eq!(seen.ports[0].protocol, "TCP");
}

#[test]
fn not_exported_means_no_mirror() {
    let decision = ExportDecision::NotExported("no".into());
    assert!(mirror_service(&remote(), &link_config(false), &decision).is_none());
}

#[test]
fn plugin_extras_are_added_and_excluded_labels_dropped() {
    let extras = MirrorExtras {
        labels: BTreeMap::from([("team".into(), "payments".into())]),
        annotations: BTreeMap::from([("owner".into(), "me".into())]),
    };
    let mirror = mirror_service(
        &remote(),
        &link_config(false),
        &ExportDecision::RemoteDiscovery(extras),
    )
    .unwrap();
    let labels = mirror.metadata.labels.clone().unwrap();
    assert_eq!(labels.get("team").map(String::as_str), Some("payments"));
    assert!(!labels.contains_key("secret"));
    assert_eq!(mirror.metadata.annotations.unwrap()["owner"], "me");
    assert_eq!(mirror.metadata.name.as_deref(), Some("bb-east"));
}

#[test]
fn currency_ignores_other_managers_but_not_a_new_remote_version() {
    let config = link_config(true);
    let desired = mirror_service(
        &remote(),
        &config,
        &ExportDecision::Gateway(MirrorExtras::default()),
    )
    .unwrap();
    let mut existing = desired.clone();
    existing
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("added-by-someone".into(), "x".into());
    existing.spec.as_mut().unwrap().cluster_ip = Some("10.96.0.3".into());
    assert!(service_is_current(&existing, &desired));
    let mut newer = remote();
    newer.metadata.resource_version = Some("43".into());
    let desired = mirror_service(
        &newer,
        &config,
        &ExportDecision::Gateway(MirrorExtras::default()),
    )
    .unwrap();
    assert!(!service_is_current(&existing, &desired));
    assert!(is_our_mirror(&existing, &config));
    assert!(!is_our_mirror(&remote(), &config));
}

#[test]
fn gateway_endpoints_map_every_port_to_the_gateway_port() {
    let config = link_config(true);
    let mirror = mirror_service(
        &remote(),
        &config,
        &ExportDecision::Gateway(MirrorExtras::default()),
    )
    .unwrap();
    let gateway = config.gateway.clone().unwrap();
    assert_eq!(
        gateway_endpoints(&mirror, &gateway, false, true).subsets,
        Some(vec![]),
        "nothing ready, no subsets"
    );
    let down = gateway_endpoints(&mirror, &gateway, true, false);
    let down_subset = &down.subsets.as_ref().unwrap()[0];
    assert!(down_subset.addresses.is_none());
    assert_eq!(
        down_subset.not_ready_addresses.as_ref().unwrap()[0].ip,
        "192.0.2.1",
        "a down gateway is not ready"
    );
    let endpoints = gateway_endpoints(&mirror, &gateway, true, true);
    let subset = &endpoints.subsets.as_ref().unwrap()[0];
    assert_eq!(subset.addresses.as_ref().unwrap()[0].ip, "192.0.2.1");
    assert_eq!(subset.ports.as_ref().unwrap()[0].port, 4143);
    assert_eq!(
        endpoints.metadata.annotations.as_ref().unwrap()
            [strait_api::labels::REMOTE_GATEWAY_IDENTITY],
        "gw"
    );
    assert!(endpoints_are_current(&endpoints, &endpoints.clone()));
}
