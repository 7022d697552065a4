//! Pod statuses as the kubelet writes them: what `kubectl get pods` and the
//! EndpointSlice controller read.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Container, Pod};
use serde_json::{Value, json};

use strait_duration::timestamp;

/// The reason given for a container whose image strait cannot run.
pub(crate) const IMAGE_NOT_SUPPORTED: &str = "ImageNotSupported";
/// The reason given for a container that could not start (an address in use).
pub(crate) const CANNOT_START: &str = "ContainerCannotRun";

fn containers(pod: &Pod) -> Vec<Container> {
    pod.spec
        .as_ref()
        .map(|s| s.containers.clone())
        .unwrap_or_default()
}

fn condition(kind: &str, ok: bool, now: &str) -> Value {
    json!({
        "type": kind,
        "status": if ok { "True" } else { "False" },
        "lastTransitionTime": now,
    })
}

/// A Pod whose containers run, ready or not yet.
pub(crate) fn running(pod: &Pod, ip: IpAddr, ready: bool) -> Value {
    let now = timestamp::now();
    let statuses: Vec<Value> = containers(pod)
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "image": c.image.clone().unwrap_or_default(),
                "imageID": "",
                "ready": ready,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            })
        })
        .collect();
    json!({
        "phase": "Running",
        "hostIP": "127.0.0.1",
        "hostIPs": [{"ip": "127.0.0.1"}],
        "podIP": ip.to_string(),
        "podIPs": [{"ip": ip.to_string()}],
        "startTime": now,
        "conditions": [
            condition("PodScheduled", true, &now),
            condition("Initialized", true, &now),
            condition("ContainersReady", ready, &now),
            condition("Ready", ready, &now),
        ],
        "containerStatuses": statuses,
    })
}

/// A Pod that is not run: every container waits, those at fault with the
/// reason (`problems`: container, image, message).
pub(crate) fn not_runnable(pod: &Pod, problems: &[(String, String, String)]) -> Value {
    let message = problems
        .iter()
        .map(|(_, _, m)| m.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    waiting(pod, IMAGE_NOT_SUPPORTED, &message, |name| {
        problems
            .iter()
            .find(|(c, _, _)| c == name)
            .map(|(_, _, m)| m.clone())
    })
}

/// A Pod one of whose containers failed to start.
pub(crate) fn failed(pod: &Pod, container: &str, message: &str) -> Value {
    waiting(pod, CANNOT_START, message, |name| {
        (name == container).then(|| message.to_string())
    })
}

fn waiting(
    pod: &Pod,
    reason: &str,
    message: &str,
    fault: impl Fn(&str) -> Option<String>,
) -> Value {
    let now = timestamp::now();
    let statuses: Vec<Value> = containers(pod)
        .iter()
        .map(|c| {
            let (why, text) = match fault(&c.name) {
                Some(text) => (reason.to_string(), text),
                None => (
                    "ContainerCreating".to_string(),
                    "waiting for the Pod's other containers".to_string(),
                ),
            };
            json!({
                "name": c.name,
                "image": c.image.clone().unwrap_or_default(),
                "imageID": "",
                "ready": false,
                "started": false,
                "restartCount": 0,
                "state": {"waiting": {"reason": why, "message": text}},
            })
        })
        .collect();
    let mut ready = condition("Ready", false, &now);
    ready["reason"] = json!("ContainersNotReady");
    ready["message"] = json!(message);
    json!({
        "phase": "Pending",
        "podIP": null,
        "podIPs": null,
        "message": message,
        "reason": reason,
        "conditions": [condition("PodScheduled", true, &now), ready],
        "containerStatuses": statuses,
    })
}

#[cfg(test)]
mod tests;
