use serde_json::json;

use super::*;

#[test]
fn default_selectors_are_the_ones_link_gen_writes() {
    let as_json = |selector: LabelSelector| serde_json::to_value(selector).ok();
    assert_eq!(
        as_json(default_gateway_selector()),
        Some(json!({"matchLabels": {"mirror.linkerd.io/exported": "true"}}))
    );
    assert_eq!(
        as_json(default_remote_discovery_selector()),
        Some(json!({"matchLabels": {"mirror.linkerd.io/exported": "remote-discovery"}}))
    );
    assert_eq!(
        as_json(default_federated_service_selector()),
        Some(json!({"matchLabels": {"mirror.linkerd.io/federated": "member"}}))
    );
}

#[test]
fn names_are_valid_qualified_label_keys() {
    // A typo such as a missing slash or a space would make the API server
    // refuse every object strait labels with it.
    for name in [
        EXPORTED,
        MIRRORED_SERVICE,
        MIRROR_CLUSTER_NAME,
        REMOTE_SVC_FQ_NAME,
        REMOTE_RESOURCE_VERSION,
        REMOTE_GATEWAY_IDENTITY,
        FEDERATED,
        REMOTE_DISCOVERY,
        LOCAL_DISCOVERY,
        REMOTE_SERVICE,
        CLUSTER_NAME,
        TRUST_DOMAIN,
        CLUSTER_DOMAIN,
        INJECT,
        CONTROL_PLANE_NS,
        WORKLOAD_NS,
        PROXY_VERSION,
        CREATED_BY,
        proxy_owner("Deployment").as_str(),
        DEFAULT_INBOUND_POLICY,
    ] {
        let (prefix, key) = name.split_once('/').unwrap_or(("", ""));
        assert!(prefix.ends_with("linkerd.io"), "{name}");
        assert!(
            !key.is_empty()
                && key.len() <= 63
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{name}"
        );
    }
}

#[test]
fn remote_discovery_lists_members_and_names_bad_entries() {
    let (members, invalid) = remote_discovery_members("bb@east, web@west,,nocluster,a@b@c");
    assert_eq!(
        members,
        vec![
            RemoteMember {
                service: "bb".into(),
                cluster: "east".into()
            },
            RemoteMember {
                service: "web".into(),
                cluster: "west".into()
            },
        ]
    );
    assert_eq!(invalid, vec!["nocluster".to_string(), "a@b@c".to_string()]);
    assert_eq!(members[0].to_string(), "bb@east");
    assert_eq!(federated_service_name("bb"), "bb-federated");
}
