//! Injection of one object, worked on as a generic YAML value so that every
//! field the injector does not own stays as it was, in its place.

use serde::Serialize;
use serde_norway::{Mapping, Value};
use strait_api::labels::{
    CONTROL_PLANE_NS, CREATED_BY, INJECT, PROXY_VERSION, WORKLOAD_NS, proxy_owner,
};
use strait_mesh::names::CONTROL_PLANE_NAMESPACE;
use strait_sidecar::{has_proxy_container, proxy_version};

use crate::report::{Outcome, Report, SkipReason};
use crate::sidecar::{
    InjectOptions, PROXY_AWAIT, await_ready, created_by, init_container, volumes,
};

/// The annotation naming the container `kubectl logs` and `exec` pick.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// What is wrong with an object the injector was given, naming the field
/// by its path from the object's root (`spec.template.spec.containers`).
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// A field the injector needs is absent.
    #[error("{0} is missing")]
    Missing(String),
    /// A field that must be a mapping is something else.
    #[error("{0} is not an object")]
    NotAnObject(String),
    /// A field that must be a list is something else.
    #[error("{0} is not a list")]
    NotAList(String),
    /// The proxy, init container or a volume would not serialize.
    #[error("writing the sidecar: {0}")]
    Sidecar(#[source] serde_norway::Error),
}

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
pub fn inject_object(object: &mut Value, options: &InjectOptions) -> Result<Report, ObjectError> {
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
            Some(_) => return Err(ObjectError::NotAnObject(where_)),
            None => return Err(ObjectError::Missing(where_)),
        };
    }
    let prefix = if where_.is_empty() {
        String::new()
    } else {
        format!("{where_}.")
    };
    let spec = match template.get("spec") {
        Some(Value::Mapping(spec)) => spec,
        Some(_) => return Err(ObjectError::NotAnObject(format!("{prefix}spec"))),
        None => return Err(ObjectError::Missing(format!("{prefix}spec"))),
    };
    let containers = match spec.get("containers") {
        Some(Value::Sequence(containers)) => containers,
        Some(_) => return Err(ObjectError::NotAList(format!("{prefix}spec.containers"))),
        None => return Err(ObjectError::Missing(format!("{prefix}spec.containers"))),
    };
    let has_proxy = has_proxy_container(
        containers
            .iter()
            .chain(match spec.get("initContainers") {
                Some(Value::Sequence(init)) => init.iter(),
                _ => [].iter(),
            })
            .filter_map(|c| c.get("name").and_then(Value::as_str)),
    );
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

    let mut labels = vec![(CONTROL_PLANE_NS, CONTROL_PLANE_NAMESPACE.to_string())];
    if let Some(namespace) = namespace {
        labels.push((WORKLOAD_NS, namespace));
    }
    let owner_label = proxy_owner(&kind);
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
) -> Result<(), ObjectError> {
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
    annotations.insert(CREATED_BY.into(), created_by().into());
    annotations.insert("linkerd.io/identity-mode".into(), "default".into());
    annotations.insert(PROXY_VERSION.into(), proxy_version().into());
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
    let mut proxy = options.proxy().build();
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

fn typed(object: &impl Serialize) -> Result<Value, ObjectError> {
    serde_norway::to_value(object).map_err(ObjectError::Sidecar)
}

fn root(object: &mut Value) -> Result<&mut Mapping, ObjectError> {
    object
        .as_mapping_mut()
        .ok_or_else(|| ObjectError::NotAnObject("the document".into()))
}

/// The mapping under `key`, created when absent or null.
fn child_mapping<'a>(
    parent: &'a mut Mapping,
    key: &str,
    path: &str,
) -> Result<&'a mut Mapping, ObjectError> {
    let slot = parent
        .entry(key.into())
        .or_insert(Value::Mapping(Mapping::new()));
    if slot.is_null() {
        *slot = Value::Mapping(Mapping::new());
    }
    slot.as_mapping_mut()
        .ok_or_else(|| ObjectError::NotAnObject(path.to_string()))
}

/// The list under `key`, created when absent or null.
fn child_sequence<'a>(
    parent: &'a mut Mapping,
    key: &str,
    path: &str,
) -> Result<&'a mut Vec<Value>, ObjectError> {
    let slot = parent
        .entry(key.into())
        .or_insert(Value::Sequence(Vec::new()));
    if slot.is_null() {
        *slot = Value::Sequence(Vec::new());
    }
    slot.as_sequence_mut()
        .ok_or_else(|| ObjectError::NotAList(path.to_string()))
}

fn string_at(value: &Value, path: &[&str]) -> Option<String> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests;
