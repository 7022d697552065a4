//! Strategic merge patch as the API server applies it
//! (`k8s.io/apimachinery/pkg/util/strategicpatch`, with the parallel-list
//! directives kubectl sends): a JSON merge patch whose lists with a `merge`
//! strategy merge element by element instead of being replaced.
//!
//! The directives, none of which is ever stored:
//! - `$patch: replace` on a map or as a list element replaces instead of
//!   merging; `$patch: delete` on a map empties it, and as a list element
//!   removes the element with its merge key; `$patch: merge` is the default;
//! - `$deleteFromPrimitiveList/<field>` removes values from a list of
//!   scalars;
//! - `$setElementOrder/<field>` orders a merged list: the listed elements
//!   in the listed order, the server's other elements kept where they were
//!   relative to them;
//! - `$retainKeys` drops every field of the live map not listed.
//!
//! Which lists merge, and by which key, comes from [`schema`]; a subtree
//! added by the patch goes through the same merge (into nothing), so its
//! nulls and directives are dropped as well.

mod order;
mod schema;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use serde_json::{Map, Value};

use self::order::{merge_sorted, position};
use self::schema::{ListStrategy, Type};
use super::{PatchError, StrategicReason, check_depth, json_equal, json_type};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Whether strategic merge patches are accepted for the kind: the built-in
/// kinds with known patch strategies, never custom resources. OpenAPI
/// offers the patch type by this, and kubectl chooses its patch by it.
pub fn supports_strategic(group: &str, kind: &str) -> bool {
    schema::kind(group, kind).is_some()
}

/// Applies the strategic merge `patch` to a copy of `target`, an object of
/// kind `kind` in API group `group` (`""` for the core group).
///
/// Kinds with no known patch strategies (custom resources) fail with
/// [`PatchError::StrategicUnsupported`], which the server answers with 415
/// as the API server does.
pub fn strategic_merge_patch(
    target: &Value,
    patch: &Value,
    group: &str,
    kind: &str,
) -> Result<Value, PatchError> {
    let Some(ty) = schema::kind(group, kind) else {
        let kind = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        return Err(PatchError::StrategicUnsupported { kind });
    };
    // The merge recurses as deep as the patch nests; the live object only
    // sets how much is copied.
    check_depth(patch)?;
    let Value::Object(patch) = patch else {
        return Err(PatchError::NotAnObject {
            what: "a strategic merge patch",
            found: json_type(patch),
        });
    };
    let original = match target {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    merge_map(original, patch, Some(ty), "").map(Value::Object)
}

/// A strategic merge patch error at `path`.
fn error(path: &str, reason: StrategicReason) -> PatchError {
    PatchError::Strategic {
        path: if path.is_empty() {
            ".".to_owned()
        } else {
            path.to_owned()
        },
        reason,
    }
}

/// The dotted path of field `key` below `path`.
fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Merges the patch map into the live map `original`.
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    ty: Option<&'static Type>,
    path: &str,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(PATCH) {
        match directive.as_str() {
            Some("replace") => return merge_map(Map::new(), &without_directive(patch), ty, path),
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {}
            _ => {
                let shown = directive.to_string();
                return Err(error(path, StrategicReason::BadDirective(shown)));
            }
        }
    }
    if let Some(keys) = patch.get(RETAIN_KEYS) {
        retain_keys(&mut original, keys, path)?;
    }
    let mut ordered = HashSet::new();
    for (key, order) in patch {
        if let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER) {
            set_element_order(&mut original, patch, field, order, ty, path)?;
            ordered.insert(field);
        }
    }
    for (key, value) in patch {
        if key == PATCH || key == RETAIN_KEYS || key.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            delete_from_primitive_list(&mut original, field, value, &child_path(path, key))?;
            continue;
        }
        if key.starts_with('$') {
            return Err(error(path, StrategicReason::UnknownDirective(key.clone())));
        }
        if ordered.contains(key.as_str()) {
            continue;
        }
        merge_field(&mut original, key, value, ty, &child_path(path, key))?;
    }
    Ok(original)
}

/// The patch map without its `$patch` directive.
fn without_directive(patch: &Map<String, Value>) -> Map<String, Value> {
    let mut patch = patch.clone();
    patch.remove(PATCH);
    patch
}

/// Merges one field of the patch into the live map: `null` deletes it,
/// maps merge, lists follow their strategy, anything else replaces.
fn merge_field(
    original: &mut Map<String, Value>,
    key: &str,
    value: &Value,
    ty: Option<&'static Type>,
    path: &str,
) -> Result<(), PatchError> {
    if value.is_null() {
        original.remove(key);
        return Ok(());
    }
    let field = Type::field(ty, key);
    match original.get_mut(key) {
        Some(slot) => {
            let live = std::mem::take(slot);
            *slot = merge_value(live, value, field, path)?;
        }
        None => {
            let merged = merge_value(Value::Null, value, field, path)?;
            original.insert(key.to_owned(), merged);
        }
    }
    Ok(())
}

/// Merges a patch value into a live value of one field.
fn merge_value(
    live: Value,
    patch: &Value,
    (strategy, ty): (ListStrategy, Option<&'static Type>),
    path: &str,
) -> Result<Value, PatchError> {
    match (live, patch) {
        (Value::Object(live), Value::Object(patch)) => {
            merge_map(live, patch, ty, path).map(Value::Object)
        }
        (_, Value::Object(patch)) => merge_map(Map::new(), patch, ty, path).map(Value::Object),
        (Value::Array(live), Value::Array(patch)) => merge_list(live, patch, strategy, ty, path),
        (_, Value::Array(patch)) => merge_list(Vec::new(), patch, strategy, ty, path),
        (_, scalar) => Ok(scalar.clone()),
    }
}

/// Merges a patch list into a live list: merging lists by their merge key
/// (or as a set, for scalars), every other list replaced by the patch's.
fn merge_list(
    live: Vec<Value>,
    patch: &[Value],
    strategy: ListStrategy,
    ty: Option<&'static Type>,
    path: &str,
) -> Result<Value, PatchError> {
    match strategy {
        ListStrategy::Merge(None) => merge_scalars(live, patch, path).map(Value::Array),
        ListStrategy::Merge(Some(key)) => {
            merge_by_key(live, patch, key, ty, path).map(Value::Array)
        }
        ListStrategy::Atomic => patch
            .iter()
            .map(|item| merge_value(Value::Null, item, (ListStrategy::Atomic, ty), path))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
    }
}

/// A merging list of scalars is the union of both, the patch's values in
/// the patch's order and the server's others where they were.
fn merge_scalars(live: Vec<Value>, patch: &[Value], path: &str) -> Result<Vec<Value>, PatchError> {
    if patch.iter().any(|item| item.is_object() || item.is_array()) {
        return Err(error(
            path,
            StrategicReason::MixedList {
                expected: "scalars",
            },
        ));
    }
    let server_order = live.clone();
    let mut merged = live;
    for item in patch {
        if position(&merged, item, None).is_none() {
            merged.push(item.clone());
        }
    }
    Ok(order_by(merged, patch, &server_order, None))
}

/// Merges a list of objects by `key`: `$patch: delete` elements remove the
/// live element with their key, `$patch: replace` replaces the whole list,
/// other elements merge into the live element with their key or are
/// appended.
fn merge_by_key(
    mut live: Vec<Value>,
    patch: &[Value],
    key: &'static str,
    ty: Option<&'static Type>,
    path: &str,
) -> Result<Vec<Value>, PatchError> {
    let mut items = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(map) = item else {
            return Err(error(
                path,
                StrategicReason::MixedList {
                    expected: "objects",
                },
            ));
        };
        match map.get(PATCH) {
            None => items.push(map),
            Some(Value::String(directive)) => match directive.as_str() {
                "merge" => items.push(map),
                "replace" => replace = true,
                "delete" => {
                    let value = map
                        .get(key)
                        .ok_or_else(|| error(path, StrategicReason::MissingMergeKey(key)))?;
                    live.retain(|element| !element.get(key).is_some_and(|v| json_equal(v, value)));
                }
                other => return Err(error(path, StrategicReason::BadDirective(other.to_owned()))),
            },
            Some(other) => {
                return Err(error(
                    path,
                    StrategicReason::BadDirective(other.to_string()),
                ));
            }
        }
    }
    if replace {
        live = Vec::new();
    }
    let server_order = live.clone();
    for map in &items {
        let value = map
            .get(key)
            .ok_or_else(|| error(path, StrategicReason::MissingMergeKey(key)))?;
        let element_path = format!("{path}[{key}={}]", scalar_text(value));
        let found = live
            .iter_mut()
            .find(|element| element.get(key).is_some_and(|v| json_equal(v, value)));
        match found {
            Some(element) => {
                let current = match std::mem::take(element) {
                    Value::Object(current) => current,
                    _ => Map::new(),
                };
                *element = Value::Object(merge_map(current, map, ty, &element_path)?);
            }
            None => live.push(Value::Object(merge_map(
                Map::new(),
                map,
                ty,
                &element_path,
            )?)),
        }
    }
    let patch_order: Vec<Value> = items
        .into_iter()
        .map(|map| Value::Object(map.clone()))
        .collect();
    Ok(order_by(live, &patch_order, &server_order, Some(key)))
}

/// A merge key's value as it reads in a path.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Orders a merged list: elements present in `patch_order` first sorted by
/// it, interleaved with the others in the order of `server_order`, as the
/// API server's `normalizeElementOrder` does.
fn order_by(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let (mut patched, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| position(patch_order, item, key).is_some());
    patched.sort_by_key(|item| position(patch_order, item, key));
    server_only.sort_by_key(|item| position(server_order, item, key).unwrap_or(usize::MAX));
    merge_sorted(server_only, patched, server_order, key)
}

/// `$retainKeys`: drops every live field not listed; an empty list keeps
/// everything, as in Kubernetes.
fn retain_keys(
    original: &mut Map<String, Value>,
    keys: &Value,
    path: &str,
) -> Result<(), PatchError> {
    let bad = || {
        error(
            path,
            StrategicReason::BadDirectiveValue {
                directive: RETAIN_KEYS.to_owned(),
                expected: "a list of field names",
            },
        )
    };
    let Value::Array(keys) = keys else {
        return Err(bad());
    };
    let keys = keys
        .iter()
        .map(|key| key.as_str().ok_or_else(bad))
        .collect::<Result<HashSet<&str>, _>>()?;
    if !keys.is_empty() {
        original.retain(|key, _| keys.contains(key.as_str()));
    }
    Ok(())
}

/// `$deleteFromPrimitiveList/<field>`: removes the listed values from the
/// live list of scalars.
fn delete_from_primitive_list(
    original: &mut Map<String, Value>,
    field: &str,
    values: &Value,
    path: &str,
) -> Result<(), PatchError> {
    let Value::Array(values) = values else {
        return Err(error(
            path,
            StrategicReason::BadDirectiveValue {
                directive: format!("{DELETE_FROM_PRIMITIVE_LIST}{field}"),
                expected: "a list",
            },
        ));
    };
    if let Some(Value::Array(live)) = original.get_mut(field) {
        live.retain(|item| !values.iter().any(|value| json_equal(item, value)));
    }
    Ok(())
}

/// `$setElementOrder/<field>`: merges the patch's `field` (if any) and
/// orders the result by the directive's list; the field is then done.
fn set_element_order(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    field: &str,
    order: &Value,
    ty: Option<&'static Type>,
    path: &str,
) -> Result<(), PatchError> {
    let field_path = child_path(path, field);
    let Value::Array(order) = order else {
        return Err(error(
            &field_path,
            StrategicReason::BadDirectiveValue {
                directive: format!("{SET_ELEMENT_ORDER}{field}"),
                expected: "a list",
            },
        ));
    };
    let (strategy, element_ty) = Type::field(ty, field);
    let patch_value = patch.get(field);
    if patch_value.is_some_and(Value::is_null) {
        original.remove(field);
        return Ok(());
    }
    let live = original.remove(field);
    let server_order = match &live {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let merged = match (live, patch_value) {
        (None, None) => return Ok(()),
        (Some(live), None) => live,
        (live, Some(value)) => merge_value(
            live.unwrap_or(Value::Null),
            value,
            (strategy, element_ty),
            &field_path,
        )?,
    };
    let key = match strategy {
        ListStrategy::Merge(key) => key,
        ListStrategy::Atomic => None,
    };
    let merged = match merged {
        Value::Array(items) => Value::Array(order_by(items, order, &server_order, key)),
        other => other,
    };
    original.insert(field.to_owned(), merged);
    Ok(())
}
