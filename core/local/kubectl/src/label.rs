//! `strait label KIND/NAME key=value ... key-`: the command line parsed,
//! and the labels changed as kubectl changes them (an existing label keeps
//! its value unless `--overwrite`; removing an absent label is a warning),
//! by one merge patch of `metadata.labels`.

use std::collections::BTreeMap;
use std::fmt;

use kube::api::{Patch, PatchParams};
use serde_json::{Map, Value};

use crate::apply::FIELD_MANAGER;
use crate::client::{Kubectl, KubectlError};
use crate::names::ObjectId;
use crate::resources::resolve_resource;

/// Labels to set and remove on one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelRequest {
    /// The resource name as given (`svc`, `deployments.apps`).
    pub resource: String,
    /// The kind it stands for, e.g. `Service`.
    pub kind: String,
    /// API group, when the name gives or implies one.
    pub group: Option<String>,
    /// Namespace (`-n`); the context's when unset.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Labels to set.
    pub set: BTreeMap<String, String>,
    /// Label keys to remove.
    pub remove: Vec<String>,
    /// Whether an existing label may be given a new value.
    pub overwrite: bool,
}

/// What a label request did, in kubectl's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelOutcome {
    /// Labels were set (and perhaps some removed).
    Labeled,
    /// Labels were only removed.
    Unlabeled,
    /// Nothing changed.
    NotLabeled,
}

impl fmt::Display for LabelOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LabelOutcome::Labeled => "labeled",
            LabelOutcome::Unlabeled => "unlabeled",
            LabelOutcome::NotLabeled => "not labeled",
        })
    }
}

/// What a label request changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelResponse {
    /// The labelled object.
    pub object: ObjectId,
    /// What changed.
    pub outcome: LabelOutcome,
    /// What is worth telling that did not fail the request, e.g. `label
    /// "x" not found.` for a removal of an absent label.
    pub warnings: Vec<String>,
}

/// A `label` command line that names no object or no valid change.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LabelError {
    /// Neither `KIND/NAME` nor `KIND NAME`.
    #[error("name the object: KIND/NAME or KIND NAME")]
    NoObject,
    /// An argument that is neither `key=value` nor `key-`.
    #[error("invalid label spec {0:?}: use key=value to set a label and key- to remove it")]
    InvalidSpec(String),
    /// An object but no change.
    #[error("at least one label update is required")]
    NoUpdate,
    /// A key is not a label key.
    #[error("invalid label key {0:?}")]
    InvalidKey(String),
    /// A value is not a label value.
    #[error(
        "invalid label value {value:?} for {key:?}: at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    )]
    InvalidValue {
        /// The label's key.
        key: String,
        /// The value.
        value: String,
    },
    /// One key both set and removed.
    #[error("cannot both modify and remove label {0:?} in the same request")]
    SetAndRemoved(String),
    /// A label has a value and `--overwrite` was not given.
    #[error("'{key}' already has a value ({current}), and --overwrite is false")]
    NoOverwrite {
        /// The label's key.
        key: String,
        /// Its value now.
        current: String,
    },
}

/// The request of `svc/bb a=b c-` (or `svc bb a=b c-`).
pub fn parse(
    args: &[String],
    overwrite: bool,
    namespace: Option<String>,
) -> Result<LabelRequest, LabelError> {
    let (resource, name, rest) = match args.first().and_then(|a| a.split_once('/')) {
        Some((kind, name)) => (kind.to_string(), name.to_string(), &args[1..]),
        None => match args {
            [kind, name, rest @ ..] => (kind.clone(), name.clone(), rest),
            _ => return Err(LabelError::NoObject),
        },
    };
    if resource.is_empty() || name.is_empty() {
        return Err(LabelError::NoObject);
    }
    let mut set = BTreeMap::new();
    let mut remove = Vec::new();
    for arg in rest {
        if let Some((key, value)) = arg.split_once('=') {
            set.insert(key.to_string(), value.to_string());
        } else if let Some(key) = arg.strip_suffix('-').filter(|k| !k.is_empty()) {
            remove.push(key.to_string());
        } else {
            return Err(LabelError::InvalidSpec(arg.clone()));
        }
    }
    if set.is_empty() && remove.is_empty() {
        return Err(LabelError::NoUpdate);
    }
    for (key, value) in &set {
        validate_key(key)?;
        validate_value(key, value)?;
        if remove.contains(key) {
            return Err(LabelError::SetAndRemoved(key.clone()));
        }
    }
    let resolved = resolve_resource(&resource);
    Ok(LabelRequest {
        resource,
        kind: resolved.kind,
        group: resolved.group,
        namespace,
        name,
        set,
        remove,
        overwrite,
    })
}

/// Why a label request changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum LabelFailure {
    /// The request is refused before anything is sent.
    #[error(transparent)]
    Refused(#[from] LabelError),
    /// The cluster failed the request.
    #[error(transparent)]
    Cluster(#[from] KubectlError),
}

/// Sets and removes the labels of `request` in one patch, after checking
/// every change against the object as it is, so a refused request changes
/// nothing.
pub async fn label(
    cluster: &Kubectl,
    request: &LabelRequest,
) -> Result<LabelResponse, LabelFailure> {
    let kind = cluster.kind_named(&request.resource)?;
    let namespace = request
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.default_namespace().to_string());
    let object = cluster.get(&kind, &namespace, &request.name).await?;
    let before = labels_of(&object);
    for key in request.set.keys() {
        if let Some(current) = before.get(key)
            && !request.overwrite
        {
            return Err(LabelError::NoOverwrite {
                key: key.clone(),
                current: current.clone(),
            }
            .into());
        }
    }
    let mut changes = Map::new();
    for (key, value) in &request.set {
        changes.insert(key.clone(), Value::String(value.clone()));
    }
    let mut warnings = Vec::new();
    for key in &request.remove {
        if before.contains_key(key) {
            changes.insert(key.clone(), Value::Null);
        } else {
            warnings.push(format!("label {key:?} not found."));
        }
    }
    let mut after = before.clone();
    if !changes.is_empty() {
        let patch = serde_json::json!({"metadata": {"labels": changes}});
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        let patched = cluster
            .api(&kind, Some(&namespace))
            .patch(&request.name, &params, &Patch::Merge(&patch))
            .await
            .map_err(KubectlError::from)?;
        after = patched.metadata.labels.unwrap_or_default();
    }
    let outcome = if after == before {
        LabelOutcome::NotLabeled
    } else if request.set.is_empty() {
        LabelOutcome::Unlabeled
    } else {
        LabelOutcome::Labeled
    };
    Ok(LabelResponse {
        object: kind.object(Some(&namespace), &request.name),
        outcome,
        warnings,
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

/// `[prefix/]name`: the prefix a DNS subdomain, the name 1-63 characters
/// of alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn validate_key(key: &str) -> Result<(), LabelError> {
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
        Err(LabelError::InvalidKey(key.to_string()))
    }
}

/// Empty, or 1-63 characters as a key's name part.
fn validate_value(key: &str, value: &str) -> Result<(), LabelError> {
    if value.is_empty() || name_ok(value) {
        Ok(())
    } else {
        Err(LabelError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
        })
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

#[cfg(test)]
mod tests;
