//! The Pod printer: readiness, the status kubectl derives from phase and
//! container states (`Running`, `CrashLoopBackOff`, `Init:0/1`,
//! `Terminating`...), restarts and the `-o wide` placement columns.

use serde_json::Value;

use super::{Column, age_of, int_at, name, str_at, wide};

pub(super) fn columns() -> Vec<Column> {
    vec![
        Column::name(),
        Column::new(
            "Ready",
            "string",
            "The aggregate readiness state of this pod for accepting traffic.",
            0,
        ),
        Column::new(
            "Status",
            "string",
            "The aggregate status of the containers in this pod.",
            0,
        ),
        Column::new(
            "Restarts",
            "string",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            0,
        ),
        Column::age(),
        wide("IP", "podIP address allocated to the pod."),
        wide(
            "Node",
            "NodeName indicates in which node this pod is scheduled.",
        ),
        wide(
            "Nominated Node",
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
        ),
        wide(
            "Readiness Gates",
            "If specified, all readiness gates will be evaluated for pod readiness.",
        ),
    ]
}

pub(super) fn row(object: &Value, now: u64) -> Vec<Value> {
    let spec = &object["spec"];
    let status = &object["status"];
    let total = items(&spec["containers"]).len()
        + items(&spec["initContainers"])
            .iter()
            .filter(|c| restartable(c))
            .count();
    let (reason, restarts, ready) = pod_status(object);
    let or_none = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    let ip = status["podIPs"][0]["ip"]
        .as_str()
        .unwrap_or_else(|| str_at(status, &["podIP"]));
    vec![
        name(object),
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts.to_string().into(),
        age_of(object, now),
        or_none(ip).into(),
        or_none(str_at(spec, &["nodeName"])).into(),
        or_none(str_at(status, &["nominatedNodeName"])).into(),
        readiness_gates(object).into(),
    ]
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// The Status cell, restart count and ready containers, as `printPod`.
fn pod_status(object: &Value) -> (String, i64, usize) {
    let status = &object["status"];
    let mut reason = match str_at(status, &["reason"]) {
        "" => str_at(status, &["phase"]).to_string(),
        reason => reason.to_string(),
    };
    let init_specs = items(&object["spec"]["initContainers"]);
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut ready = 0;
    let mut initializing = false;
    for (i, container) in items(&status["initContainerStatuses"]).iter().enumerate() {
        restarts += int_at(container, &["restartCount"]);
        let sidecar = init_specs.get(i).is_some_and(restartable);
        if sidecar {
            sidecar_restarts += int_at(container, &["restartCount"]);
        }
        if sidecar && container["started"].as_bool() == Some(true) {
            if container["ready"].as_bool() == Some(true) {
                ready += 1;
            }
            continue;
        }
        match init_reason(container, i, init_specs.len()) {
            Some(init) => {
                reason = init;
                initializing = true;
                break;
            }
            None => continue,
        }
    }
    if !initializing || condition_true(status, "Initialized") {
        restarts = sidecar_restarts;
        let mut running = false;
        for container in items(&status["containerStatuses"]).iter().rev() {
            restarts += int_at(container, &["restartCount"]);
            let state = &container["state"];
            let waiting = str_at(state, &["waiting", "reason"]);
            let terminated = str_at(state, &["terminated", "reason"]);
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if !terminated.is_empty() {
                reason = terminated.to_string();
            } else if state.get("terminated").is_some() {
                reason = exit_reason("", &state["terminated"]);
            } else if container["ready"].as_bool() == Some(true) && state.get("running").is_some() {
                running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && running {
            reason = if condition_true(status, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    let terminal = matches!(str_at(status, &["phase"]), "Succeeded" | "Failed");
    let deleting = object["metadata"]
        .get("deletionTimestamp")
        .is_some_and(|t| !t.is_null());
    if deleting && str_at(status, &["reason"]) == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && !terminal {
        reason = "Terminating".into();
    }
    (reason, restarts, ready)
}

/// A native sidecar: an init container that keeps running with the pod.
fn restartable(container: &Value) -> bool {
    str_at(container, &["restartPolicy"]) == "Always"
}

/// Why init container `i` holds the pod back, `None` once it succeeded.
fn init_reason(container: &Value, i: usize, total: usize) -> Option<String> {
    let state = &container["state"];
    let terminated = &state["terminated"];
    let waiting = str_at(state, &["waiting", "reason"]);
    if terminated.is_object() {
        if int_at(terminated, &["exitCode"]) == 0 {
            return None;
        }
        return Some(match str_at(terminated, &["reason"]) {
            "" => exit_reason("Init:", terminated),
            reason => format!("Init:{reason}"),
        });
    }
    if !waiting.is_empty() && waiting != "PodInitializing" {
        return Some(format!("Init:{waiting}"));
    }
    Some(format!("Init:{i}/{total}"))
}

/// `Signal:9` or `ExitCode:1` for a terminated state without a reason.
fn exit_reason(prefix: &str, terminated: &Value) -> String {
    match int_at(terminated, &["signal"]) {
        0 => format!("{prefix}ExitCode:{}", int_at(terminated, &["exitCode"])),
        signal => format!("{prefix}Signal:{signal}"),
    }
}

fn condition_true(status: &Value, kind: &str) -> bool {
    items(&status["conditions"])
        .iter()
        .any(|c| str_at(c, &["type"]) == kind && str_at(c, &["status"]) == "True")
}

/// `true/total` readiness gates, `<none>` when the pod has none.
fn readiness_gates(object: &Value) -> String {
    let gates = items(&object["spec"]["readinessGates"]);
    if gates.is_empty() {
        return "<none>".into();
    }
    let met = gates
        .iter()
        .filter(|g| condition_true(&object["status"], str_at(g, &["conditionType"])))
        .count();
    format!("{met}/{}", gates.len())
}
