//! The four ways a Kubernetes client changes an object with `PATCH`, as
//! pure functions from the stored object and the request body to the new
//! object; the server decides what to do with the result (validation,
//! resourceVersion, storing).
//!
//! - [`json_patch`]: RFC 6902 operations (`application/json-patch+json`);
//! - [`merge_patch`]: RFC 7386 (`application/merge-patch+json`), the store's
//!   own implementation so status writes and API patches agree;
//! - [`strategic_merge_patch`]: the API server's strategic merge patch for
//!   built-in kinds (`application/strategic-merge-patch+json`), which is
//!   what `kubectl label`, `annotate`, `rollout restart`, `edit` and
//!   client-side `apply` send;
//! - [`parse_apply_body`]: reads a server-side apply body
//!   (`application/apply-patch+yaml`); the field-manager merge itself is the
//!   store's.
//!
//! A patch is a client's input, so nothing here panics on it, and every
//! patch is checked against [`MAX_DEPTH`] before any recursive walk, so a
//! deeply nested body is refused instead of exhausting the stack.

mod json;
mod strategic;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use json::json_patch;
pub use strategic::{strategic_merge_patch, supports_strategic};

/// How deep a patch may nest. Kubernetes objects are far shallower (a
/// pod template's deepest fields sit about a dozen levels down), and the
/// bound keeps every recursive walk over a client's body within the stack.
pub const MAX_DEPTH: usize = 100;

/// The patch formats of the `PATCH` verb, told apart by the request's
/// `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`: RFC 6902 operations.
    Json,
    /// `application/merge-patch+json`: RFC 7386 merge patch.
    Merge,
    /// `application/strategic-merge-patch+json`: Kubernetes' strategic
    /// merge patch, for built-in kinds only.
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply.
    Apply,
}

impl PatchType {
    /// The patch type a `Content-Type` header names, ignoring parameters
    /// such as `; charset=utf-8` and letter case; `None` for any other media
    /// type, which the API server answers with 415 Unsupported Media Type.
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        [
            PatchType::Json,
            PatchType::Merge,
            PatchType::Strategic,
            PatchType::Apply,
        ]
        .into_iter()
        .find(|patch_type| patch_type.content_type().eq_ignore_ascii_case(essence))
    }

    /// The media type of this patch type, as clients send it.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Json => "application/json-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
        }
    }
}

/// Why a patch could not be applied; each variant says where, so the
/// message a client sees points at the offending part of its body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The body (a merge patch, strategic merge patch or apply
    /// configuration) is not a JSON object.
    #[error("{what} must be a JSON object, not {found}")]
    NotAnObject {
        /// Which body: "a merge patch", "an apply configuration", ...
        what: &'static str,
        /// The JSON type found instead.
        found: &'static str,
    },
    /// The body nests deeper than [`MAX_DEPTH`].
    #[error("patch nests deeper than {limit} levels at {pointer}")]
    TooDeep {
        /// The depth limit.
        limit: usize,
        /// JSON pointer to where the limit was crossed.
        pointer: String,
    },
    /// A JSON patch body is not an array of operations.
    #[error("a JSON patch must be an array of operations, not {found}")]
    JsonPatchNotArray {
        /// The JSON type found instead.
        found: &'static str,
    },
    /// One JSON patch operation failed; the whole patch is then rejected.
    #[error("op {index} ({op} {path}): {reason}")]
    JsonPatchOp {
        /// The operation's position in the patch, from 0.
        index: usize,
        /// The operation's `op`, or `?` when it has none.
        op: String,
        /// The operation's `path` (a JSON pointer), empty when it has none.
        path: String,
        /// What went wrong.
        reason: JsonPatchReason,
    },
    /// Strategic merge patch was asked for a kind that has no patch
    /// strategies (a custom resource): the API server answers 415.
    #[error(
        "strategic merge patch is not supported for {kind}; send application/json-patch+json, application/merge-patch+json or application/apply-patch+yaml"
    )]
    StrategicUnsupported {
        /// The refused kind, with its group when it has one.
        kind: String,
    },
    /// A strategic merge patch is malformed at one field.
    #[error("strategic merge patch at {path}: {reason}")]
    Strategic {
        /// Dotted field path, with `[key=value]` for list elements.
        path: String,
        /// What is wrong there.
        reason: StrategicReason,
    },
    /// A server-side apply body is neither YAML nor JSON.
    #[error("apply configuration is not valid YAML or JSON: {message}")]
    ApplyBody {
        /// The parser's message, with its line and column.
        message: String,
    },
}

/// Why one JSON patch operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPatchReason {
    /// The operation is not a JSON object.
    #[error("an operation must be an object")]
    NotAnObject,
    /// A member the operation needs is missing or not a string.
    #[error("missing or invalid \"{0}\"")]
    Missing(&'static str),
    /// `op` is none of RFC 6902's six.
    #[error("unknown operation")]
    UnknownOp,
    /// A pointer does not start with `/` or has a bad `~` escape.
    #[error("invalid JSON pointer {0:?}")]
    InvalidPointer(String),
    /// The location (or its parent, for `add`) does not exist.
    #[error("path not found")]
    PathNotFound,
    /// The `from` location of a `move` or `copy` does not exist.
    #[error("from {0} not found")]
    FromNotFound(String),
    /// An array index is not a number, has leading zeros or is past the end.
    #[error("array index {index:?} is invalid for an array of length {len}")]
    BadIndex {
        /// The reference token used as an index.
        index: String,
        /// The array's length.
        len: usize,
    },
    /// The parent of the location is a scalar.
    #[error("parent is neither an object nor an array")]
    NotAContainer,
    /// `remove` of the whole document.
    #[error("cannot remove the whole document")]
    RemoveRoot,
    /// `move` into one of the moved value's own children.
    #[error("cannot move {0} into its own child")]
    MoveIntoChild(String),
    /// A `test` operation found a different value.
    #[error("test failed: the value differs")]
    TestFailed,
}

/// What is wrong at one place of a strategic merge patch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategicReason {
    /// A `$patch` directive other than `replace`, `delete` or `merge`.
    #[error("unknown $patch directive {0}")]
    BadDirective(String),
    /// A key starting with `$` that is no directive.
    #[error("unknown directive {0:?}")]
    UnknownDirective(String),
    /// A directive's value has the wrong JSON type.
    #[error("{directive} must be {expected}")]
    BadDirectiveValue {
        /// The directive key.
        directive: String,
        /// The JSON shape it needs.
        expected: &'static str,
    },
    /// An element of a merging list lacks the list's merge key.
    #[error("list element has no merge key {0:?}")]
    MissingMergeKey(&'static str),
    /// An element of a merging list is not an object, or a list of scalars
    /// holds an object.
    #[error("list elements must all be {expected}")]
    MixedList {
        /// What the list's elements must be.
        expected: &'static str,
    },
}

/// RFC 7386 merge patch of `target` by `patch`, returning the new object.
///
/// The API server refuses a merge patch that is not an object, and so does
/// this; the merge itself is [`strait_store::merge_patch`], bounded here by
/// [`MAX_DEPTH`] because it recurses as deep as the patch nests.
pub fn merge_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    require_object(patch, "a merge patch")?;
    check_depth(patch)?;
    let mut out = target.clone();
    strait_store::merge_patch(&mut out, patch);
    Ok(out)
}

/// Reads a server-side apply body: one YAML document (JSON is YAML too)
/// that must be an object, nested no deeper than [`MAX_DEPTH`].
pub fn parse_apply_body(body: &[u8]) -> Result<Value, PatchError> {
    let starts_as_json = body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{');
    // JSON is tried first for JSON-looking bodies because YAML parsers are
    // stricter about tabs than JSON is; anything else is YAML.
    let parsed = match starts_as_json.then(|| serde_json::from_slice::<Value>(body)) {
        Some(Ok(value)) => value,
        _ => serde_norway::from_slice::<Value>(body).map_err(|error| PatchError::ApplyBody {
            message: error.to_string(),
        })?,
    };
    require_object(&parsed, "an apply configuration")?;
    check_depth(&parsed)?;
    Ok(parsed)
}

/// Fails unless `value` is an object.
fn require_object(value: &Value, what: &'static str) -> Result<(), PatchError> {
    if value.is_object() {
        Ok(())
    } else {
        Err(PatchError::NotAnObject {
            what,
            found: json_type(value),
        })
    }
}

/// The JSON type name of a value, for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Refuses a value nested deeper than [`MAX_DEPTH`]. The walk itself stops
/// at the limit, so it is safe on any value.
pub(crate) fn check_depth(value: &Value) -> Result<(), PatchError> {
    match too_deep(value, MAX_DEPTH) {
        None => Ok(()),
        Some(mut tokens) => {
            tokens.reverse();
            let pointer = tokens
                .iter()
                .map(|token| format!("/{}", token.replace('~', "~0").replace('/', "~1")))
                .collect();
            Err(PatchError::TooDeep {
                limit: MAX_DEPTH,
                pointer,
            })
        }
    }
}

/// The reference tokens (innermost first) of a place below `value` that is
/// more than `remaining` levels down, if there is one.
fn too_deep(value: &Value, remaining: usize) -> Option<Vec<String>> {
    let children: Box<dyn Iterator<Item = (String, &Value)>> = match value {
        Value::Array(items) => Box::new(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| (index.to_string(), item)),
        ),
        Value::Object(map) => Box::new(map.iter().map(|(key, item)| (key.clone(), item))),
        _ => return None,
    };
    let mut children = children.peekable();
    // An empty object or array adds no level.
    children.peek()?;
    let Some(below) = remaining.checked_sub(1) else {
        return Some(Vec::new());
    };
    children.find_map(|(token, child)| {
        too_deep(child, below).map(|mut tokens| {
            tokens.push(token);
            tokens
        })
    })
}

/// Equality as RFC 6902's `test` and the merge keys need it: numbers are
/// equal when their values are, whether written as integers or floats.
pub(crate) fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => {
            l == r || matches!((l.as_f64(), r.as_f64()), (Some(l), Some(r)) if l == r)
        }
        (Value::Array(l), Value::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(l, r)| json_equal(l, r))
        }
        (Value::Object(l), Value::Object(r)) => {
            l.len() == r.len()
                && l.iter()
                    .all(|(key, l)| r.get(key).is_some_and(|r| json_equal(l, r)))
        }
        _ => left == right,
    }
}
