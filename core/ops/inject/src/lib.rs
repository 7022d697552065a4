//! `strait inject`: adds the strait proxy to the workloads of a Kubernetes
//! manifest, as `linkerd inject --manual` does, so the same pipelines work
//! (`cat app.yaml | strait inject - | kubectl apply -f -`).
//!
//! Workloads with a pod template (Deployment, StatefulSet, DaemonSet,
//! ReplicaSet, ReplicationController, Job, CronJob) and bare Pods get the
//! `linkerd-proxy` container, the `linkerd-init` container that redirects
//! their traffic to it, and the volumes and metadata Linkerd's injector
//! adds; Namespaces get `linkerd.io/inject: enabled`; `List`s are handled
//! item by item; every other object is written back untouched, byte for
//! byte. Objects are transformed as generic values, so fields the injector
//! does not own keep their values and their order.
//!
//! The proxy container is the mesh's one ([`strait_sidecar::ProxyContainer`]),
//! the one the gateway and `strait local` run too; a workload counts as
//! injected by the mesh's rule ([`strait_sidecar::has_proxy_container`]).

mod emit;
mod report;
mod sidecar;
mod stream;
mod workload;

use serde_norway::Value;

pub use report::{Outcome, Report, SkipReason, render as render_reports};
pub use sidecar::{
    InjectOptions, PROXY_AWAIT, PROXY_AWAIT_TIMEOUT, await_ready, created_by, init_container,
    volumes,
};
pub use workload::ObjectError;

/// The injected stream and what happened to each object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injected {
    /// The output stream: each document followed by a `---` line, as
    /// `linkerd inject` writes it.
    pub output: String,
    /// One report per object, Lists counting their items.
    pub reports: Vec<Report>,
}

/// Input that could not be injected, named by where it came from and
/// which document it is.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: document {document} (line {line}): {reason}")]
pub struct InjectError {
    /// The file the stream came from (`-` or `stdin` for standard input).
    pub source_name: String,
    /// The document's position in the stream, from 1.
    pub document: usize,
    /// The line the problem is on, or the document starts on.
    pub line: usize,
    /// What is wrong, naming the object when there is one.
    #[source]
    pub reason: DocumentError,
}

/// What is wrong with one document of the stream.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document is neither JSON nor YAML.
    #[error("not valid YAML: {0}")]
    Yaml(#[source] serde_norway::Error),
    /// The document is a scalar or a list, not a Kubernetes resource.
    #[error("the document is not an object (a Kubernetes resource)")]
    NotAnObject,
    /// A `List` whose `items` is not a list.
    #[error("List: items is not a list")]
    ItemsNotAList,
    /// A `List` item that is not an object.
    #[error("List: items[{index}] is not an object")]
    ItemNotAnObject {
        /// The item's position in `items`, from 0.
        index: usize,
    },
    /// A workload the injector cannot work on.
    #[error("{object}: {source}")]
    Object {
        /// The object, as `kind/name`.
        object: String,
        /// The field at fault.
        #[source]
        source: ObjectError,
    },
    /// A `List` item the injector cannot work on.
    #[error("List: items[{index}]: {object}: {source}")]
    Item {
        /// The item's position in `items`, from 0.
        index: usize,
        /// The item, as `kind/name`.
        object: String,
        /// The field at fault.
        #[source]
        source: ObjectError,
    },
    /// The injected object would not serialize back to YAML.
    #[error("writing the result: {0}")]
    Emit(#[source] serde_norway::Error),
}

/// Injects every document of `input` (YAML or JSON, one or many documents)
/// read from `source_name`. Fails on the first document that does not
/// parse or names a workload without `containers`, so that nothing half
/// injected is ever written.
pub fn inject(
    input: &str,
    source_name: &str,
    options: &InjectOptions,
) -> Result<Injected, InjectError> {
    let mut output = String::new();
    let mut reports = Vec::new();
    for document in stream::documents(input) {
        let error = |line: usize, reason: DocumentError| InjectError {
            source_name: source_name.to_string(),
            document: document.number,
            line,
            reason,
        };
        let mut value = parse(&document.text, document.line)
            .map_err(|(line, reason)| error(line.unwrap_or(document.line), reason))?;
        if !value.is_mapping() {
            return Err(error(document.line, DocumentError::NotAnObject));
        }
        let changed = if value.get("kind").and_then(Value::as_str) == Some("List") {
            inject_list(&mut value, options, &mut reports)
                .map_err(|reason| error(document.line, reason))?
        } else {
            let report = workload::inject_object(&mut value, options).map_err(|source| {
                error(
                    document.line,
                    DocumentError::Object {
                        object: object_name(&value),
                        source,
                    },
                )
            })?;
            let changed = !matches!(report.outcome, Outcome::Skipped(_));
            reports.push(report);
            changed
        };
        if changed {
            let yaml =
                emit::to_yaml(&value).map_err(|e| error(document.line, DocumentError::Emit(e)))?;
            output.push_str(&yaml);
        } else {
            output.push_str(&document.text);
        }
        output.push_str("---\n");
    }
    Ok(Injected { output, reports })
}

/// Injects the items of a `List`; whether any changed.
fn inject_list(
    list: &mut Value,
    options: &InjectOptions,
    reports: &mut Vec<Report>,
) -> Result<bool, DocumentError> {
    let items = match list.get_mut("items") {
        None | Some(Value::Null) => return Ok(false),
        Some(Value::Sequence(items)) => items,
        Some(_) => return Err(DocumentError::ItemsNotAList),
    };
    let mut changed = false;
    for (index, item) in items.iter_mut().enumerate() {
        if !item.is_mapping() {
            return Err(DocumentError::ItemNotAnObject { index });
        }
        let report =
            workload::inject_object(item, options).map_err(|source| DocumentError::Item {
                index,
                object: object_name(item),
                source,
            })?;
        changed |= !matches!(report.outcome, Outcome::Skipped(_));
        reports.push(report);
    }
    Ok(changed)
}

/// An object's `kind/name`, so a long stream's fault is found by the
/// object's name.
fn object_name(object: &Value) -> String {
    let field = |key: &str| {
        object
            .get(key)
            .or_else(|| object.get("metadata").and_then(|m| m.get(key)))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    format!("{}/{}", field("kind").to_lowercase(), field("name"))
}

/// Parses a document that starts on line `first_line` of its stream: JSON
/// when it starts as JSON does (kept in order), YAML otherwise. Errors
/// carry the stream's line when known.
fn parse(text: &str, first_line: usize) -> Result<Value, (Option<usize>, DocumentError)> {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(value) = serde_json::from_str::<Value>(text)
    {
        return Ok(value);
    }
    // Blank lines in front make the parser's line numbers the stream's.
    let padded = format!("{}{text}", "\n".repeat(first_line.saturating_sub(1)));
    serde_norway::from_str::<Value>(&padded).map_err(|e| {
        let line = e.location().map(|l| l.line());
        (line, DocumentError::Yaml(e))
    })
}

#[cfg(test)]
mod tests;
