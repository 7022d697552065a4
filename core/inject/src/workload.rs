//! Injection of one object, worked on as a generic YAML value so that every
//! field the injector does not own stays as it was, in its place.

use serde::Serialize;
use serde_norway::{Mapping, Value};
use strait_api::labels::INJECT;

use crate::report::{Outcome, Report, SkipReason};
use crate::sidecar::{
    CONTROL_PLANE_NS, InjectOptions, PROXY_AWAIT, PROXY_CONTAINER, await_ready, created_by,
    init_container, proxy_container, proxy_version, volumes,
};

/// The annotation naming the container `kubectl logs` and `exec` pick.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// Where a kind keeps its pod template, below the object's root.
fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&[]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

/// Injects `object` in place and says what it did; `Err` names what is
/// missing or malformed, relative to the object.
pub fn inject_object(object: &mut Value, options: &InjectOptions) -> Result<Report, String> {
    let kind = string_at(object, &["kind"]).unwrap_or_default();
    let name = string_at(object, &["metadata", "name"]).unwrap_or_default();
    let namespace = string_at(object, &["metadata", "namespace"]);
    let mut report = Report {
        kind: kind.to_lowercase(),
        name: name.clone(),
        outcome: Outcome::Skipped(None),
    };
    if kind == "Namespace" {
        let metadata = child_mapping(root(object)?, "metadata", "metadata")?;
        let annotations = child_mapping(metadata, "annotations", "metadata.annotations")?;
        annotations.insert(INJECT.into(), "enabled".into());
        report.outcome = Outcome::Annotated;
        return Ok(report);
    }
    let Some(path) = template_path(&kind) else {
        return Ok(report);
    };
    let disabled_on_object = string_at(object, &["metadata", "annotations", INJECT])
        .is_some_and(|v| v.trim() == "disabled");

    let mut template = root(object)?;
    let mut where_ = String::new();
    for step in path {
        where_ = if where_.is_empty() {
            (*step).to_string()
        } else {
            format!("{where_}.{step}")
        };
        template = match template.get_mut(*step) {
            Some(Value::Mapping(next)) => next,
            Some(_) => return Err(format!("{where_} is not an object")),
            None => return Err(format!("{where_} is missing")),
        };
    }
    let prefix = if where_.is_empty() {
        String::new()
    } else {
        format!("{where_}.")
    };
    let spec = match template.get("spec") {
        Some(Value::Mapping(spec)) => spec,
        Some(_) => return Err(format!("{prefix}spec is not an object")),
        None => return Err(format!("{prefix}spec is missing")),
    };
    let containers = match spec.get("containers") {
        Some(Value::Sequence(containers)) => containers,
        Some(_) => return Err(format!("{prefix}spec.containers is not a list")),
        None => return Err(format!("{prefix}spec.containers is missing")),
    };
    let has_proxy = containers
        .iter()
        .chain(match spec.get("initContainers") {
            Some(Value::Sequence(init)) => init.iter(),
            _ => [].iter(),
        })
        .any(|c| c.get("name").and_then(Value::as_str) == Some(PROXY_CONTAINER));
    let disabled = disabled_on_object
        || template
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(INJECT))
            .and_then(Value::as_str)
            .is_some_and(|v| v.trim() == "disabled");
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let skip = if has_proxy {
        Some(SkipReason::AlreadyInjected)
    } else if disabled {
        Some(SkipReason::InjectDisabled)
    } else if host_network {
        Some(SkipReason::HostNetwork)
    } else {
        None
    };
    if let Some(reason) = skip {
        report.outcome = Outcome::Skipped(Some(reason));
        return Ok(report);
    }

    let mut labels = vec![("linkerd.io/control-plane-ns", CONTROL_PLANE_NS.to_string())];
    if let Some(namespace) = namespace {
        labels.push(("linkerd.io/workload-ns", namespace));
    }
    let owner_label = format!("linkerd.io/proxy-{}", kind.to_lowercase());
    if kind != "Pod" && !name.is_empty() {
        labels.push((&owner_label, name));
    }
    add_pod_parts(template, &prefix, &labels, options)?;
    report.outcome = Outcome::Injected;
    Ok(report)
}

/// Adds the annotations, labels, containers and volumes to a pod (or pod
/// template) mapping whose `spec.containers` is known to be a list.
fn add_pod_parts(
    pod: &mut Mapping,
    prefix: &str,
    labels: &[(&str, String)],
    options: &InjectOptions,
) -> Result<(), String> {
    // The proxy goes first, as Linkerd puts it; `kubectl logs` and `exec`
    // keep defaulting to the application's first container.
    let first_app = match pod.get("spec").and_then(|s| s.get("containers")) {
        Some(Value::Sequence(containers)) => containers
            .first()
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    let metadata = child_mapping(pod, "metadata", &format!("{prefix}metadata"))?;
    let annotations = child_mapping(
        metadata,
        "annotations",
        &format!("{prefix}metadata.annotations"),
    )?;
    // Linkerd's switch for holding the application back until the proxy
    // is ready; on unless the workload says `disabled`.
    let await_proxy = annotations
        .get(PROXY_AWAIT)
        .and_then(Value::as_str)
        .is_none_or(|v| v.trim() != "disabled");
    annotations.insert("linkerd.io/created-by".into(), created_by().into());
    annotations.insert("linkerd.io/identity-mode".into(), "default".into());
    annotations.insert("linkerd.io/proxy-version".into(), proxy_version().into());
    if let Some(first_app) = first_app
        && !annotations.contains_key(DEFAULT_CONTAINER)
    {
        annotations.insert(DEFAULT_CONTAINER.into(), first_app.into());
    }
    let labels_map = child_mapping(metadata, "labels", &format!("{prefix}metadata.labels"))?;
    for (key, value) in labels {
        labels_map.insert((*key).into(), value.as_str().into());
    }

    let spec = child_mapping(pod, "spec", &format!("{prefix}spec"))?;
    let mut proxy = proxy_container(options);
    if await_proxy {
        proxy.lifecycle = Some(await_ready());
    }
    let proxy = typed(&proxy)?;
    let init = typed(&init_container(options))?;
    child_sequence(spec, "containers", &format!("{prefix}spec.containers"))?.insert(0, proxy);
    child_sequence(
        spec,
        "initContainers",
        &format!("{prefix}spec.initContainers"),
    )?
    .insert(0, init);
    let new_volumes = volumes().iter().map(typed).collect::<Result<Vec<_>, _>>()?;
    child_sequence(spec, "volumes", &format!("{prefix}spec.volumes"))?.extend(new_volumes);
    Ok(())
}

fn typed(object: &impl Serialize) -> Result<Value, String> {
    serde_norway::to_value(object).map_err(|e| format!("writing the sidecar: {e}"))
}

fn root(object: &mut Value) -> Result<&mut Mapping, String> {
    object
        .as_mapping_mut()
        .ok_or_else(|| "the document is not an object".to_string())
}

/// The mapping under `key`, created when absent or null.
fn child_mapping<'a>(
    parent: &'a mut Mapping,
    key: &str,
    path: &str,
) -> Result<&'a mut Mapping, String> {
    let slot = parent
        .entry(key.into())
        .or_insert(Value::Mapping(Mapping::new()));
    if slot.is_null() {
        *slot = Value::Mapping(Mapping::new());
    }
    slot.as_mapping_mut()
        .ok_or_else(|| format!("{path} is not an object"))
}

/// The list under `key`, created when absent or null.
fn child_sequence<'a>(
    parent: &'a mut Mapping,
    key: &str,
    path: &str,
) -> Result<&'a mut Vec<Value>, String> {
    let slot = parent
        .entry(key.into())
        .or_insert(Value::Sequence(Vec::new()));
    if slot.is_null() {
        *slot = Value::Sequence(Vec::new());
    }
    slot.as_sequence_mut()
        .ok_or_else(|| format!("{path} is not a list"))
}

fn string_at(value: &Value, path: &[&str]) -> Option<String> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests;
