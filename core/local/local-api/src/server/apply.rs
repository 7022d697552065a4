//! `apply`: multi-document YAML or JSON into the store, each object reported
//! as created, configured or unchanged, as kubectl reports them.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use strait_store::{MemoryStore, StoreError};

use super::ApiError;
use crate::wire::{AppliedObject, ApplyOutcome, ApplyResponse, ObjectId};

/// The field manager of objects applied through the API, kubectl's own.
pub(crate) const FIELD_MANAGER: &str = "kubectl";

/// Applies every object of `text` in document order (`kind: List` items in
/// their order). Namespaced objects without a namespace get
/// `default_namespace` (else the store's `default`). The first document
/// that does not parse, or that the store refuses, ends the request with a
/// 400 naming it; objects before it stay applied, and the error says so.
pub(crate) fn apply(
    store: &MemoryStore,
    text: &str,
    default_namespace: Option<&str>,
) -> Result<ApplyResponse, ApiError> {
    let mut results = Vec::new();
    let fail = |results: Vec<AppliedObject>, number: usize, reason: String| {
        let kept = match results.len() {
            0 => "nothing was applied".to_string(),
            1 => "the object before it was applied and stays applied".to_string(),
            n => format!("the {n} objects before it were applied and stay applied"),
        };
        let mut err = ApiError::bad_request(format!("document {number}: {reason}; {kept}"));
        err.applied = results;
        err
    };
    for (index, document) in documents(text).into_iter().enumerate() {
        let number = index + 1;
        let value = match document {
            Ok(Value::Null) => continue,
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => return Err(fail(results, number, "not a Kubernetes object".into())),
            Err(reason) => return Err(fail(results, number, reason)),
        };
        for item in expand(value) {
            match apply_one(store, item, default_namespace) {
                Ok(applied) => results.push(applied),
                Err(reason) => return Err(fail(results, number, reason)),
            }
        }
    }
    Ok(ApplyResponse { results })
}

/// The documents of a YAML stream (JSON being YAML), each parsed or the
/// reason it did not parse. A syntax error ends the stream: the parser
/// cannot find the next document after one.
fn documents(text: &str) -> Vec<Result<Value, String>> {
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

/// A `kind: List` (or `ServiceList`, ...) as its items; any other object as itself.
fn expand(value: Value) -> Vec<Value> {
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

fn apply_one(
    store: &MemoryStore,
    mut object: Value,
    default_namespace: Option<&str>,
) -> Result<AppliedObject, String> {
    let api_version = object["apiVersion"].as_str().unwrap_or("").to_string();
    let kind = object["kind"].as_str().unwrap_or("").to_string();
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if api_version.is_empty() || kind.is_empty() {
        return Err("apiVersion and kind are required".into());
    }
    if name.is_empty() {
        return Err(format!("{kind}: metadata.name is required"));
    }
    let given = object["metadata"]["namespace"]
        .as_str()
        .filter(|ns| !ns.is_empty())
        .map(str::to_string);
    match (&given, default_namespace) {
        (Some(given), Some(wanted)) if given != wanted => {
            return Err(format!(
                "{kind} {name:?}: the namespace from the object ({given:?}) does not match the namespace {wanted:?}; pass --namespace={given} or remove it from the object"
            ));
        }
        (None, Some(wanted)) => {
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(wanted.to_string()));
            }
        }
        _ => {}
    }
    let group = group_of(&api_version);
    let before = versions_of(store, group, &kind, &name);
    let stored = store
        .apply_json(object, FIELD_MANAGER)
        .map_err(|e| match e {
            // Already names the object, as the API server does.
            StoreError::Rejected { .. } => e.to_string(),
            e => format!("{kind} {name:?}: {e}"),
        })?;
    let namespace = stored["metadata"]["namespace"].as_str().map(str::to_string);
    let version = stored["metadata"]["resourceVersion"].as_str().unwrap_or("");
    let outcome = match before.get(namespace.as_deref().unwrap_or("")) {
        None => ApplyOutcome::Created,
        Some(previous) if previous == version => ApplyOutcome::Unchanged,
        Some(_) => ApplyOutcome::Configured,
    };
    Ok(AppliedObject {
        object: ObjectId {
            group: group.to_string(),
            kind,
            namespace,
            name,
        },
        outcome,
    })
}

/// The resourceVersions of the objects of this group and kind named `name`,
/// by namespace (empty for cluster-scoped ones).
fn versions_of(
    store: &MemoryStore,
    group: &str,
    kind: &str,
    name: &str,
) -> BTreeMap<String, String> {
    store
        .objects()
        .into_iter()
        .filter(|(k, o)| k.group == group && k.kind == kind && o["metadata"]["name"] == name)
        .map(|(_, o)| {
            (
                o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

/// The API group of an `apiVersion`: `apps/v1` → `apps`, `v1` → the core group.
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}
