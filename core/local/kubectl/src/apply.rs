//! `apply`: multi-document YAML or JSON into a cluster by server-side
//! apply, each object reported as created, configured or unchanged, as
//! kubectl reports them. What an object was is read before and after the
//! apply: absent before is created, the same resourceVersion after is
//! unchanged, anything else configured.

use std::fmt;

use kube::api::{Patch, PatchParams};
use serde::Deserialize;
use serde_json::Value;

use crate::client::Kubectl;
use crate::names::ObjectId;

/// The field manager of everything the commands apply; `force` takes over
/// fields another manager set, as `kubectl apply --server-side
/// --force-conflicts` does, so a re-apply always wins.
pub const FIELD_MANAGER: &str = "strait";

/// What happened to one applied object, as kubectl reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The object did not exist.
    Created,
    /// The object existed and changed.
    Configured,
    /// The object existed and the apply changed nothing.
    Unchanged,
}

impl fmt::Display for ApplyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApplyOutcome::Created => "created",
            ApplyOutcome::Configured => "configured",
            ApplyOutcome::Unchanged => "unchanged",
        })
    }
}

/// One object of an apply and what happened to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedObject {
    /// The object, with the namespace it got.
    pub object: ObjectId,
    /// Created, configured or unchanged.
    pub outcome: ApplyOutcome,
}

/// A document that did not apply: which one, why, and what the documents
/// before it applied (which stay applied).
#[derive(Debug)]
pub struct ApplyFailure {
    /// The document's number, from 1.
    pub document: usize,
    /// The objects applied before it.
    pub applied: Vec<AppliedObject>,
    /// The server's reason (`Error from server (NotFound)`), when it
    /// refused the object.
    pub server_reason: Option<String>,
    /// Why, naming the object when it has a name.
    pub reason: String,
}

impl fmt::Display for ApplyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = match self.applied.len() {
            0 => "nothing was applied".to_string(),
            1 => "the object before it was applied and stays applied".to_string(),
            n => format!("the {n} objects before it were applied and stay applied"),
        };
        match &self.server_reason {
            Some(reason) => write!(f, "Error from server ({reason}): ")?,
            None => f.write_str("error: ")?,
        }
        write!(f, "document {}: {}; {kept}", self.document, self.reason)
    }
}

/// Applies every object of `text` in document order (`kind: List` items in
/// their order). Namespaced objects without a namespace get
/// `namespace` (`-n`), else the context's. The first document that does
/// not parse, or that the server refuses, ends the apply; objects before
/// it stay applied, and the failure says so.
pub async fn apply(
    cluster: &Kubectl,
    text: &str,
    namespace: Option<&str>,
) -> Result<Vec<AppliedObject>, ApplyFailure> {
    let mut results = Vec::new();
    for (index, document) in documents(text).into_iter().enumerate() {
        let number = index + 1;
        let fail = |applied, server_reason, reason| ApplyFailure {
            document: number,
            applied,
            server_reason,
            reason,
        };
        let value = match document {
            Ok(Value::Null) => continue,
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => return Err(fail(results, None, "not a Kubernetes object".into())),
            Err(reason) => return Err(fail(results, None, reason)),
        };
        for item in expand(value) {
            match apply_one(cluster, item, namespace).await {
                Ok(applied) => results.push(applied),
                Err((server_reason, reason)) => return Err(fail(results, server_reason, reason)),
            }
        }
    }
    Ok(results)
}

/// The documents of a YAML stream (JSON being YAML), each parsed or the
/// reason it did not parse. A syntax error ends the stream: the parser
/// cannot find the next document after one.
pub fn documents(text: &str) -> Vec<Result<Value, String>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return vec![serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))];
    }
    let mut out = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        match Value::deserialize(document) {
            Ok(value) => out.push(Ok(value)),
            Err(err) => {
                out.push(Err(format!("invalid YAML: {err}")));
                break;
            }
        }
    }
    out
}

/// A `kind: List` (or `ServiceList`, ...) as its items; any other object
/// as itself.
pub fn expand(value: Value) -> Vec<Value> {
    let is_list =
        value["kind"].as_str().is_some_and(|k| k.ends_with("List")) && value["items"].is_array();
    if !is_list {
        return vec![value];
    }
    match value {
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The server's reason (when it refused) and the message of a failed
/// object.
type ObjectFailure = (Option<String>, String);

async fn apply_one(
    cluster: &Kubectl,
    mut object: Value,
    namespace: Option<&str>,
) -> Result<AppliedObject, ObjectFailure> {
    let field = |value: &Value| value.as_str().unwrap_or("").to_string();
    let api_version = field(&object["apiVersion"]);
    let kind_text = field(&object["kind"]);
    let name = field(&object["metadata"]["name"]);
    if api_version.is_empty() || kind_text.is_empty() {
        return Err((None, "apiVersion and kind are required".into()));
    }
    if name.is_empty() {
        return Err((None, format!("{kind_text}: metadata.name is required")));
    }
    let kind = cluster
        .kind_of_manifest(&api_version, &kind_text)
        .map_err(|e| (None, format!("{kind_text} {name:?}: {e}")))?;
    let namespace = if kind.namespaced {
        let given = object["metadata"]["namespace"]
            .as_str()
            .filter(|ns| !ns.is_empty())
            .map(str::to_string);
        let chosen = match (given, namespace) {
            (Some(given), Some(wanted)) if given != wanted => {
                return Err((
                    None,
                    format!(
                        "{kind_text} {name:?}: the namespace from the object ({given:?}) does not match the namespace {wanted:?}; pass --namespace={given} or remove it from the object"
                    ),
                ));
            }
            (Some(given), _) => given,
            (None, Some(wanted)) => wanted.to_string(),
            (None, None) => cluster.default_namespace().to_string(),
        };
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), Value::String(chosen.clone()));
        }
        Some(chosen)
    } else {
        None
    };
    let refused = |e: kube::Error| match e {
        kube::Error::Api(status) => (
            Some(status.reason.clone()),
            format!("{kind_text} {name:?}: {}", status.message),
        ),
        other => (None, format!("{kind_text} {name:?}: {other}")),
    };
    let api = cluster.api(&kind, namespace.as_deref());
    let before = api.get_opt(&name).await.map_err(refused)?;
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let after = api
        .patch(&name, &params, &Patch::Apply(&object))
        .await
        .map_err(refused)?;
    let version = |o: &kube::api::DynamicObject| o.metadata.resource_version.clone();
    let outcome = match before {
        None => ApplyOutcome::Created,
        Some(before) if version(&before) == version(&after) => ApplyOutcome::Unchanged,
        Some(_) => ApplyOutcome::Configured,
    };
    Ok(AppliedObject {
        object: kind.object(namespace.as_deref(), &name),
        outcome,
    })
}

#[cfg(test)]
mod tests;
