//! Server-side apply and merge-patch semantics on JSON, as far as strait
//! depends on them.

use serde_json::{Map, Value};

/// Applies `applied` over `existing` for one field manager whose previous
/// applied configuration was `previous`:
/// - fields in `applied` are set (objects merge field by field; scalars and
///   lists are replaced whole, as atomic lists are);
/// - fields the manager set before (in `previous`) and omits now are removed;
/// - every other field (another manager's, or the server's, like an
///   allocated ClusterIP) stays.
pub(crate) fn server_side_apply(
    existing: &Value,
    previous: Option<&Value>,
    applied: &Value,
) -> Value {
    match (existing, applied) {
        (Value::Object(existing), Value::Object(applied)) => {
            let previous = previous.and_then(Value::as_object);
            let mut out = existing.clone();
            if let Some(previous) = previous {
                for key in previous.keys() {
                    if !applied.contains_key(key) {
                        out.remove(key);
                    }
                }
            }
            for (key, value) in applied {
                let merged = match out.get(key) {
                    Some(current) => {
                        server_side_apply(current, previous.and_then(|p| p.get(key)), value)
                    }
                    None => value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        _ => applied.clone(),
    }
}

/// RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces.
///
/// Public because the store's status patches and the local API server's
/// `application/merge-patch+json` requests must agree on one semantics; the
/// function recurses as deep as `patch` is nested, so callers bound the depth
/// of untrusted patches first.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
