use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_destination::ClusterConfig;

use super::{RECONNECT_BACKOFF, RECONNECT_BACKOFF_MAX, RECONNECT_BACKOFF_MIN, remote_config};

fn secret(annotations: &[(&str, &str)]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some("cluster-credentials-east".into()),
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..ObjectMeta::default()
        },
        ..Secret::default()
    }
}

fn local() -> ClusterConfig {
    ClusterConfig {
        cluster_domain: "west.local".into(),
        control_plane_namespace: "strait".into(),
        trust_domain: "west.example".into(),
    }
}

#[test]
fn the_remote_domains_come_from_the_annotations() {
    let config = remote_config(
        &secret(&[
            (labels::TRUST_DOMAIN, "east.example"),
            (labels::CLUSTER_DOMAIN, "east.local."),
        ]),
        &local(),
    );
    assert_eq!(
        config,
        ClusterConfig {
            cluster_domain: "east.local".into(),
            control_plane_namespace: "strait".into(),
            trust_domain: "east.example".into(),
        }
    );
}

#[test]
fn missing_or_empty_annotations_default_to_ours() {
    assert_eq!(remote_config(&secret(&[]), &local()), local());
    assert_eq!(
        remote_config(&secret(&[(labels::TRUST_DOMAIN, " ")]), &local()),
        local()
    );
}

#[test]
fn the_backoff_doubles_up_to_its_maximum() {
    let mut backoff = RECONNECT_BACKOFF;
    assert_eq!(backoff.next_delay(), RECONNECT_BACKOFF_MIN);
    assert_eq!(backoff.next_delay(), RECONNECT_BACKOFF_MIN * 2);
    assert_eq!(backoff.next_delay(), RECONNECT_BACKOFF_MIN * 4);
    assert_eq!(
        backoff.nth(36),
        Some(RECONNECT_BACKOFF_MAX),
        "the 40th wait"
    );
}
