//! What `strait label KIND/NAME key=value ... key-` asks of the local API.

use std::collections::BTreeMap;

use strait_local_api::wire::LabelRequest;

use crate::resources::resolve_resource;

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
    let resource = resolve_resource(&resource);
    Ok(LabelRequest {
        kind: resource.kind,
        group: resource.group,
        namespace,
        name,
        set,
        remove,
        overwrite,
    })
}

#[cfg(test)]
mod tests;
