use k8s_openapi::api::core::v1::{Pod, PodStatus};
use serde_json::json;

use super::*;

fn pod() -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "bb-1", "namespace": "mc-demo"},
        "spec": {"containers": [
            {"name": "terminus", "image": "buoyantio/bb:v0.0.6"},
            {"name": "web", "image": "nginx:1.25"}
        ]}
    }))
    .unwrap()
}

fn ready(status: &PodStatus) -> Option<String> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}

#[test]
fn a_running_pod_has_its_address_and_readiness() {
    let ip = "127.1.0.7".parse().unwrap();
    let status: PodStatus = serde_json::from_value(running(&pod(), ip, false)).unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert_eq!(status.pod_ip.as_deref(), Some("127.1.0.7"));
    assert_eq!(status.pod_ips.as_ref().unwrap()[0].ip, "127.1.0.7");
    assert_eq!(ready(&status).as_deref(), Some("False"));
    let status: PodStatus = serde_json::from_value(running(&pod(), ip, true)).unwrap();
    assert_eq!(ready(&status).as_deref(), Some("True"));
    assert!(status.container_statuses.unwrap().iter().all(|c| c.ready));
}

#[test]
fn a_pod_that_cannot_run_names_the_container_at_fault() {
    let problems = [(
        "web".to_string(),
        "nginx:1.25".to_string(),
        "cannot run image \"nginx:1.25\"".to_string(),
    )];
    let value = not_runnable(&pod(), &problems);
    assert!(value["podIP"].is_null(), "a stale address is removed");
    let status: PodStatus = serde_json::from_value(value).unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let waiting: Vec<(String, Option<String>)> = status
        .container_statuses
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.state.unwrap().waiting.unwrap().reason))
        .collect();
    assert_eq!(
        waiting,
        vec![
            ("terminus".into(), Some("ContainerCreating".into())),
            ("web".into(), Some(IMAGE_NOT_SUPPORTED.into())),
        ]
    );
    let failed: PodStatus =
        serde_json::from_value(failed(&pod(), "terminus", "address in use")).unwrap();
    assert_eq!(failed.reason.as_deref(), Some(CANNOT_START));
}
