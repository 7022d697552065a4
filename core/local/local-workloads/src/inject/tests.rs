use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;

fn annotations(value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(INJECT.to_string(), value.to_string())])
}

#[test]
fn the_pod_template_wins_over_the_namespace() {
    assert!(wants_proxy(Some(&annotations("enabled")), None));
    assert!(wants_proxy(None, Some(&annotations("enabled"))));
    assert!(!wants_proxy(
        Some(&annotations("disabled")),
        Some(&annotations("enabled"))
    ));
    assert!(wants_proxy(
        Some(&BTreeMap::new()),
        Some(&annotations("enabled"))
    ));
    assert!(!wants_proxy(None, None));
}

fn sidecar() -> ProxyContainer {
    ProxyContainer {
        image: strait_api::image::default_image(),
        trust_domain: "cluster.local".into(),
        trust_anchors: TrustAnchors::Pem("anchors".into()),
        control_plane: ControlPlaneAddrs::at("127.0.0.1:9000"),
        gateway: false,
    }
}

#[test]
fn injection_adds_the_proxy_container_once() {
    let mut pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "bb-1", "namespace": "mc-demo"},
        "spec": {"containers": [{"name": "terminus", "image": "buoyantio/bb:v0.0.6"}]}
    }))
    .unwrap();
    assert!(!is_meshed(&pod));
    inject(&mut pod, &sidecar(), "linkerd", Some(("Deployment", "bb")));
    inject(&mut pod, &sidecar(), "linkerd", Some(("Deployment", "bb")));
    assert!(is_meshed(&pod));
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.containers.len(), 2);
    assert_eq!(spec.containers[1], sidecar().build());
    // The volume the proxy mounts its token from, once.
    assert_eq!(spec.volumes, Some(vec![identity_token_volume()]));
    let annotations = pod.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations.get(PROXY_VERSION), Some(&proxy_version()));
    let labels = pod.metadata.labels.as_ref().unwrap();
    assert_eq!(
        labels.get("linkerd.io/workload-ns").map(String::as_str),
        Some("mc-demo")
    );
}
