use strait_api::link::{Link, LinkSpec};

use super::*;

fn link(spec: LinkSpec) -> Link {
    let mut link = Link::new("east", spec);
    link.metadata.namespace = Some("linkerd".into());
    link
}

fn named(spec: LinkSpec) -> LinkSpec {
    LinkSpec {
        target_cluster_name: Some("east".into()),
        ..spec
    }
}

#[test]
fn a_gatewayless_link_has_no_gateway_and_default_domain() {
    let config = LinkConfig::from_link(&link(named(LinkSpec::default()))).unwrap();
    assert_eq!(config.gateway, None);
    assert!(!config.export.has_gateway);
    assert_eq!(config.mirror_name("bb"), "bb-east");
    assert_eq!(
        config.remote_fq_name("bb", "mc-demo"),
        "bb.mc-demo.svc.cluster.local"
    );
    assert_eq!(
        config.export.selector, None,
        "an unset selector stays unset (matches nothing)"
    );
}

#[test]
fn gateway_fields_are_read_and_checked() {
    let config = LinkConfig::from_link(&link(named(LinkSpec {
        gateway_address: Some("10.0.0.1, 10.0.0.2".into()),
        gateway_port: Some("4143".into()),
        gateway_identity: Some("gw.id".into()),
        ..Default::default()
    })))
    .unwrap();
    let gateway = config.gateway.unwrap();
    assert_eq!(gateway.addresses, vec!["10.0.0.1", "10.0.0.2"]);
    assert_eq!(gateway.port, 4143);
    let err = LinkConfig::from_link(&link(named(LinkSpec {
        gateway_address: Some("10.0.0.1".into()),
        gateway_port: Some("http".into()),
        ..Default::default()
    })))
    .unwrap_err();
    assert_eq!(err.link, "linkerd/east");
    assert_eq!(
        err.fault,
        LinkFault::GatewayPort {
            value: "http".into()
        }
    );
    assert!(
        err.to_string()
            .starts_with("link linkerd/east: spec.gatewayPort \"http\" is not a port number"),
        "{err}"
    );
}

#[test]
fn a_link_without_a_target_cluster_name_is_refused() {
    let err = LinkConfig::from_link(&link(LinkSpec::default())).unwrap_err();
    assert!(
        err.to_string()
            .contains("spec.targetClusterName is required"),
        "{err}"
    );
}

#[test]
fn malformed_selectors_name_the_field() {
    let selector = K8sSelector {
        match_expressions: Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
                key: "tier".into(),
                operator: "Matches".into(),
                values: None,
            },
        ]),
        ..Default::default()
    };
    let err = LinkConfig::from_link(&link(named(LinkSpec {
        remote_discovery_selector: Some(selector),
        ..Default::default()
    })))
    .unwrap_err();
    assert!(
        err.fault.to_string().starts_with(
            "spec.remoteDiscoverySelector: unknown operator \"Matches\" (expected In, NotIn, \
             Exists or DoesNotExist) in matchExpressions[0] (key \"tier\")"
        ),
        "{err}"
    );
}

#[test]
fn excluded_labels_and_annotations_match_exactly_or_by_prefix() {
    let config = LinkConfig::from_link(&link(named(LinkSpec {
        excluded_labels: Some(vec!["team".into(), "example.com/*".into()]),
        excluded_annotations: Some(vec!["note".into()]),
        ..Default::default()
    })))
    .unwrap();
    assert!(config.excludes_label("team"));
    assert!(config.excludes_label("example.com/owner"));
    assert!(!config.excludes_label("example.com"));
    assert!(!config.excludes_label("example.community/x"));
    assert!(
        config.excludes_label("mirror.linkerd.io/exported"),
        "Linkerd's own labels never copy"
    );
    assert!(config.excludes_annotation("note"));
    assert!(config.excludes_annotation("kubectl.kubernetes.io/last-applied-configuration"));
    assert!(!config.excludes_annotation("other"));
}

#[test]
fn the_probe_spec_is_read_with_linkerds_defaults_and_checked() {
    let with_probe = |probe: strait_api::link::ProbeSpec| {
        LinkConfig::from_link(&link(named(LinkSpec {
            gateway_address: Some("10.0.0.1".into()),
            gateway_port: Some("4143".into()),
            probe_spec: Some(probe),
            ..Default::default()
        })))
    };
    let config = with_probe(strait_api::link::ProbeSpec {
        path: Some("/ready".into()),
        port: Some("4191".into()),
        period: Some("3s".into()),
        ..Default::default()
    })
    .unwrap();
    let probe = config.gateway.unwrap().probe.unwrap();
    assert_eq!(
        (probe.port, probe.period, probe.failure_threshold),
        (4191, Duration::from_secs(3), 3)
    );
    assert_eq!(probe.timeout, Duration::from_secs(30));
    let err = with_probe(strait_api::link::ProbeSpec {
        port: Some("4191".into()),
        period: Some("often".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        err.fault
            .to_string()
            .starts_with("spec.probeSpec.period \"often\" is not a duration"),
        "{err}"
    );
}
