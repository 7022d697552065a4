//! Reading, deleting and labelling single objects by kind and name.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use serde_json::{Map, Value, json};
use strait_store::{MemoryStore, ObjectRef, StoredKind};

use super::ApiError;
use crate::wire::{
    DeleteRequest, DeleteResponse, LabelOutcome, LabelRequest, LabelResponse, ObjectId,
};

/// Field managers of labels set through the API: one per label key, so that
/// each owns exactly its label and nothing else of the object. Server-side
/// apply removes what a manager set before and now omits; with one manager
/// per key, setting one label never drops another, and removing one never
/// touches the fields `apply` owns.
const LABEL_MANAGER_PREFIX: &str = "kubectl-label:";

/// The objects of a kind (matched case-insensitively; `group` narrows it
/// when given), in one namespace or all, ordered by namespace and name.
pub(crate) fn list(
    store: &MemoryStore,
    kind: &str,
    group: Option<&str>,
    namespace: Option<&str>,
) -> Vec<Value> {
    let mut objects: Vec<Value> = store
        .objects()
        .into_iter()
        .filter(|(k, _)| kind_matches(k, kind, group))
        .filter(|(k, o)| match namespace {
            Some(ns) if k.namespaced => o["metadata"]["namespace"].as_str() == Some(ns),
            _ => true,
        })
        .map(|(_, o)| (*o).clone())
        .collect();
    objects.sort_by(|a, b| {
        let key = |o: &Value| {
            (
                o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                o["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
    objects
}

/// Deletes one object; 404 naming it when it does not exist.
pub(crate) fn delete(
    store: &MemoryStore,
    request: &DeleteRequest,
) -> Result<DeleteResponse, ApiError> {
    let (reference, _) = find(
        store,
        &request.kind,
        request.group.as_deref(),
        request.namespace.as_deref(),
        &request.name,
    )?;
    store
        .delete_ref(&reference)
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(DeleteResponse {
        deleted: id_of(&reference),
    })
}

/// Sets and removes labels as kubectl does: an existing label keeps its
/// value unless `overwrite`; removing an absent label is a warning.
/// Everything is checked before anything is written, so a refused request
/// changes nothing.
pub(crate) fn label(
    store: &MemoryStore,
    request: &LabelRequest,
) -> Result<LabelResponse, ApiError> {
    let (reference, object) = find(
        store,
        &request.kind,
        request.group.as_deref(),
        request.namespace.as_deref(),
        &request.name,
    )?;
    let before = labels_of(&object);
    for (key, value) in &request.set {
        validate_key(key)?;
        validate_value(key, value)?;
        if request.remove.contains(key) {
            return Err(ApiError::bad_request(format!(
                "cannot both modify and remove label {key:?} in the same request"
            )));
        }
        if let Some(current) = before.get(key)
            && !request.overwrite
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{key}' already has a value ({current}), and --overwrite is false"),
            ));
        }
    }
    let mut warnings = Vec::new();
    let skeleton = skeleton_of(&object);
    for (key, value) in &request.set {
        apply_labels(store, &skeleton, key, Some(value))?;
    }
    for key in &request.remove {
        match before.get(key) {
            None => warnings.push(format!("label {key:?} not found.")),
            Some(current) => {
                // Take the label over (no change), then drop it: server-side
                // apply removes what a manager omits only if it set it.
                apply_labels(store, &skeleton, key, Some(current))?;
                apply_labels(store, &skeleton, key, None)?;
            }
        }
    }
    let after = find(
        store,
        &reference.kind.kind,
        Some(&reference.kind.group),
        Some(&reference.namespace),
        &reference.name,
    )
    .map(|(_, o)| labels_of(&o))?;
    let outcome = if after == before {
        LabelOutcome::NotLabeled
    } else if request.set.is_empty() {
        LabelOutcome::Unlabeled
    } else {
        LabelOutcome::Labeled
    };
    Ok(LabelResponse {
        object: id_of(&reference),
        outcome,
        warnings,
    })
}

/// Applies `{key: value}` (or no labels) as the key's own manager.
fn apply_labels(
    store: &MemoryStore,
    skeleton: &Value,
    key: &str,
    value: Option<&str>,
) -> Result<(), ApiError> {
    let mut object = skeleton.clone();
    let labels: Map<String, Value> = value
        .map(|v| (key.to_string(), Value::String(v.to_string())))
        .into_iter()
        .collect();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        // An empty map rather than none: omitting `labels` altogether would
        // be read as dropping every label this manager set.
        meta.insert("labels".into(), Value::Object(labels));
    }
    store
        .apply_json(object, &format!("{LABEL_MANAGER_PREFIX}{key}"))
        .map(drop)
        .map_err(|e| ApiError::from_store(&e))
}

/// apiVersion, kind, name and namespace: what an apply needs to name the
/// object, and nothing a label manager should own.
fn skeleton_of(object: &Value) -> Value {
    let mut metadata = Map::new();
    for field in ["name", "namespace"] {
        if let Some(value) = object["metadata"].get(field) {
            metadata.insert(field.into(), value.clone());
        }
    }
    json!({
        "apiVersion": object["apiVersion"],
        "kind": object["kind"],
        "metadata": metadata,
    })
}

fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The object of this kind and name; for namespaced kinds in `namespace`
/// (default `default`). 404 naming it as the API server does.
fn find(
    store: &MemoryStore,
    kind: &str,
    group: Option<&str>,
    namespace: Option<&str>,
    name: &str,
) -> Result<(ObjectRef, Arc<Value>), ApiError> {
    let of_kind: Vec<(StoredKind, Arc<Value>)> = store
        .objects()
        .into_iter()
        .filter(|(k, _)| kind_matches(k, kind, group))
        .collect();
    let stored_kind = of_kind
        .first()
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| StoredKind {
            group: group.unwrap_or("").to_string(),
            kind: kind.to_string(),
            plural: format!("{}s", kind.to_ascii_lowercase()),
            namespaced: true,
        });
    let namespace = if stored_kind.namespaced {
        namespace.filter(|ns| !ns.is_empty()).unwrap_or("default")
    } else {
        ""
    };
    let reference = ObjectRef {
        kind: stored_kind,
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    of_kind
        .into_iter()
        .find(|(k, o)| {
            *k == reference.kind
                && o["metadata"]["name"].as_str() == Some(name)
                && o["metadata"]["namespace"].as_str().unwrap_or("") == namespace
        })
        .map(|(_, o)| (reference.clone(), o))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("{reference} not found")))
}

fn kind_matches(stored: &StoredKind, kind: &str, group: Option<&str>) -> bool {
    stored.kind.eq_ignore_ascii_case(kind) && group.is_none_or(|g| stored.group == g)
}

fn id_of(reference: &ObjectRef) -> ObjectId {
    ObjectId {
        group: reference.kind.group.clone(),
        kind: reference.kind.kind.clone(),
        namespace: (!reference.namespace.is_empty()).then(|| reference.namespace.clone()),
        name: reference.name.clone(),
    }
}

/// `[prefix/]name`: the prefix a DNS subdomain, the name 1-63 characters
/// of alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn validate_key(key: &str) -> Result<(), ApiError> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    });
    if prefix_ok && !name.is_empty() && name_ok(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("invalid label key {key:?}")))
    }
}

/// Empty, or 1-63 characters as a key's name part.
fn validate_value(key: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || name_ok(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid label value {value:?} for {key:?}: at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )))
    }
}

fn name_ok(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
