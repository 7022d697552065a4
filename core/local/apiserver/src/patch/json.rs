//! RFC 6902 JSON patch: a list of operations applied in order to a copy of
//! the object, all or nothing, with RFC 6901 pointers (`~0` for `~`, `~1`
//! for `/`, `-` for the end of an array).

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use super::{JsonPatchReason, PatchError, check_depth, json_equal, json_type};

/// Applies the RFC 6902 `patch` (an array of operations) to a copy of
/// `target`. The first failing operation rejects the whole patch, named by
/// its index, its `op` and its `path`, as clients need to find it.
pub fn json_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Array(ops) = patch else {
        return Err(PatchError::JsonPatchNotArray {
            found: json_type(patch),
        });
    };
    check_depth(patch)?;
    let mut doc = target.clone();
    for (index, op) in ops.iter().enumerate() {
        apply_op(&mut doc, op).map_err(|reason| PatchError::JsonPatchOp {
            index,
            op: string_member(op, "op").unwrap_or("?").to_owned(),
            path: string_member(op, "path").unwrap_or_default().to_owned(),
            reason,
        })?;
    }
    Ok(doc)
}

/// The string member `name` of an operation, if it has one.
fn string_member<'a>(op: &'a Value, name: &str) -> Option<&'a str> {
    op.get(name).and_then(Value::as_str)
}

/// Applies one operation to `doc`.
fn apply_op(doc: &mut Value, op: &Value) -> Result<(), JsonPatchReason> {
    let Value::Object(members) = op else {
        return Err(JsonPatchReason::NotAnObject);
    };
    let name = string_member(op, "op").ok_or(JsonPatchReason::Missing("op"))?;
    let path = parse_pointer(string_member(op, "path").ok_or(JsonPatchReason::Missing("path"))?)?;
    match name {
        "add" => add(doc, &path, value_member(members)?.clone()),
        "remove" => remove(doc, &path).map(drop),
        "replace" => {
            let slot = get_mut(doc, &path).ok_or(JsonPatchReason::PathNotFound)?;
            *slot = value_member(members)?.clone();
            Ok(())
        }
        "move" => {
            let from_text = string_member(op, "from").ok_or(JsonPatchReason::Missing("from"))?;
            let from = parse_pointer(from_text)?;
            if from == path {
                return get(doc, &from)
                    .map(drop)
                    .ok_or_else(|| JsonPatchReason::FromNotFound(from_text.to_owned()));
            }
            if path.starts_with(&from) {
                return Err(JsonPatchReason::MoveIntoChild(from_text.to_owned()));
            }
            let value = remove(doc, &from).map_err(|reason| from_error(reason, from_text))?;
            add(doc, &path, value)
        }
        "copy" => {
            let from_text = string_member(op, "from").ok_or(JsonPatchReason::Missing("from"))?;
            let value = get(doc, &parse_pointer(from_text)?)
                .ok_or_else(|| JsonPatchReason::FromNotFound(from_text.to_owned()))?
                .clone();
            add(doc, &path, value)
        }
        "test" => {
            let found = get(doc, &path).ok_or(JsonPatchReason::PathNotFound)?;
            if json_equal(found, value_member(members)?) {
                Ok(())
            } else {
                Err(JsonPatchReason::TestFailed)
            }
        }
        _ => Err(JsonPatchReason::UnknownOp),
    }
}

/// A failure at the `from` location is reported as such.
fn from_error(reason: JsonPatchReason, from: &str) -> JsonPatchReason {
    match reason {
        JsonPatchReason::PathNotFound | JsonPatchReason::BadIndex { .. } => {
            JsonPatchReason::FromNotFound(from.to_owned())
        }
        other => other,
    }
}

/// The `value` member, which may be `null` but must be present.
fn value_member(members: &Map<String, Value>) -> Result<&Value, JsonPatchReason> {
    members
        .get("value")
        .ok_or(JsonPatchReason::Missing("value"))
}

/// Splits an RFC 6901 pointer into its unescaped reference tokens.
fn parse_pointer(pointer: &str) -> Result<Vec<String>, JsonPatchReason> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(JsonPatchReason::InvalidPointer(pointer.to_owned()));
    };
    rest.split('/')
        .map(|token| {
            unescape(token).ok_or_else(|| JsonPatchReason::InvalidPointer(pointer.to_owned()))
        })
        .collect()
}

/// Undoes `~1` and `~0` (in that order of meaning: `~01` is `~1`); any
/// other `~` is an error.
fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The array position a token names: decimal without leading zeros, below
/// `len`, or equal to it (and `-`) when `end_allowed` (for `add`).
fn array_index(token: &str, len: usize, end_allowed: bool) -> Result<usize, JsonPatchReason> {
    let bad = || JsonPatchReason::BadIndex {
        index: token.to_owned(),
        len,
    };
    let index = if token == "-" {
        len
    } else if token == "0" || (!token.starts_with('0') && token.bytes().all(|b| b.is_ascii_digit()))
    {
        token.parse::<usize>().map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    if index < len || (end_allowed && index == len) {
        Ok(index)
    } else {
        Err(bad())
    }
}

/// The value at `path`, if there is one.
fn get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(map) => map.get(token),
        Value::Array(items) => array_index(token, items.len(), false)
            .ok()
            .and_then(|index| items.get(index)),
        _ => None,
    })
}

/// The value at `path`, mutably, if there is one.
fn get_mut<'a>(doc: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(map) => map.get_mut(token),
        Value::Array(items) => array_index(token, items.len(), false)
            .ok()
            .and_then(|index| items.get_mut(index)),
        _ => None,
    })
}

/// RFC 6902 `add`: sets an object member (replacing it), inserts into an
/// array (shifting the rest), or replaces the whole document.
fn add(doc: &mut Value, path: &[String], value: Value) -> Result<(), JsonPatchReason> {
    let Some((last, parent)) = path.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent).ok_or(JsonPatchReason::PathNotFound)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = array_index(last, items.len(), true)?;
            items.insert(index, value);
            Ok(())
        }
        _ => Err(JsonPatchReason::NotAContainer),
    }
}

/// RFC 6902 `remove`: takes the value at `path` out and returns it.
fn remove(doc: &mut Value, path: &[String]) -> Result<Value, JsonPatchReason> {
    let (last, parent) = path.split_last().ok_or(JsonPatchReason::RemoveRoot)?;
    match get_mut(doc, parent).ok_or(JsonPatchReason::PathNotFound)? {
        Value::Object(map) => map.remove(last).ok_or(JsonPatchReason::PathNotFound),
        Value::Array(items) => {
            let index = array_index(last, items.len(), false)?;
            Ok(items.remove(index))
        }
        _ => Err(JsonPatchReason::PathNotFound),
    }
}
