//! What `strait delete` deletes: `KIND NAME...`, `KIND/NAME...`, or the
//! objects of `-f` manifests, as delete requests.

use serde::Deserialize;
use serde_json::Value;

use crate::client::{Kind, Kubectl, KubectlError};
use crate::resources::resolve_resource;
use crate::sources::{SourceError, read_sources};

/// One object to delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRequest {
    /// The resource name as given on the command line (`svc`); `None` for
    /// an object of a manifest, named by its kind and group.
    pub resource: Option<String>,
    /// Kind, e.g. `Service`.
    pub kind: String,
    /// API group, when known.
    pub group: Option<String>,
    /// Namespace; the context's when unset, ignored for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl DeleteRequest {
    /// The kind the request names, as the cluster serves it.
    pub fn kind_in(&self, cluster: &Kubectl) -> Result<Kind, KubectlError> {
        match &self.resource {
            Some(resource) => cluster.kind_named(resource),
            // A manifest's `v1` is the core group, not any group.
            None => cluster
                .kind_of(&self.kind, Some(self.group.as_deref().unwrap_or("")))
                .ok_or_else(|| KubectlError::UnknownKind {
                    api_version: self.group.clone().unwrap_or_else(|| "v1".into()),
                    kind: self.kind.clone(),
                }),
        }
    }
}

/// Why the objects to delete could not be named.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// No arguments at all.
    #[error("name a kind and an object: KIND NAME or KIND/NAME")]
    Nothing,
    /// `KIND/NAME` mixed with a plain argument, or an empty side.
    #[error(
        "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (got {0:?})"
    )]
    Mixed(String),
    /// A kind without names.
    #[error("name the {0} to delete: KIND NAME or KIND/NAME")]
    NoName(String),
}

/// A manifest document that does not name an object.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document is not YAML (or JSON).
    #[error("document {document}: not YAML: {source}")]
    NotYaml {
        /// The document's number, from 1.
        document: usize,
        /// The parser's complaint.
        source: serde_norway::Error,
    },
    /// A field the request needs is absent or empty.
    #[error("document {document}: no {field}")]
    Missing {
        /// The document's number, from 1.
        document: usize,
        /// `apiVersion`, `kind` or `metadata.name`.
        field: &'static str,
    },
}

/// Why `delete` has nothing to send.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// The `KIND NAME` arguments.
    #[error(transparent)]
    Targets(#[from] TargetError),
    /// A `-f` source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A document of a `-f` source.
    #[error("{origin}: {source}")]
    Document {
        /// The source's name.
        origin: String,
        /// The document at fault.
        source: DocumentError,
    },
}

/// The delete requests of a command line: `targets` when no `files` are
/// given, else every object of the files; `namespace` is `-n`.
pub fn requests(
    targets: &[String],
    files: &[String],
    namespace: Option<&str>,
) -> Result<Vec<DeleteRequest>, DeleteError> {
    if files.is_empty() {
        let targets = parse_targets(targets)?;
        return Ok(targets
            .into_iter()
            .map(|(resource, name)| {
                let resolved = resolve_resource(&resource);
                DeleteRequest {
                    resource: Some(resource),
                    kind: resolved.kind,
                    group: resolved.group,
                    namespace: namespace.map(str::to_string),
                    name,
                }
            })
            .collect());
    }
    let mut requests = Vec::new();
    for source in read_sources(files)? {
        requests.extend(
            parse_documents(&source.text, namespace).map_err(|source_err| {
                DeleteError::Document {
                    origin: source.name.clone(),
                    source: source_err,
                }
            })?,
        );
    }
    Ok(requests)
}

/// `(resource, name)` pairs from `svc bb cc` or `svc/bb deploy/cc`; the two
/// forms do not mix, as in kubectl.
pub fn parse_targets(args: &[String]) -> Result<Vec<(String, String)>, TargetError> {
    let first = args.first().ok_or(TargetError::Nothing)?;
    if first.contains('/') {
        return args
            .iter()
            .map(|arg| match arg.split_once('/') {
                Some((kind, name)) if !kind.is_empty() && !name.is_empty() => {
                    Ok((kind.to_string(), name.to_string()))
                }
                _ => Err(TargetError::Mixed(arg.clone())),
            })
            .collect();
    }
    let names = &args[1..];
    if names.is_empty() {
        return Err(TargetError::NoName(first.clone()));
    }
    Ok(names.iter().map(|n| (first.clone(), n.clone())).collect())
}

/// The objects a YAML (or JSON) stream names, as delete requests: each
/// document's `apiVersion`, `kind`, `metadata.name` and `metadata.namespace`
/// (else `namespace`, the `-n` flag); a `List`'s items count one by one.
/// Empty documents are skipped, as kubectl skips them.
pub fn parse_documents(
    text: &str,
    namespace: Option<&str>,
) -> Result<Vec<DeleteRequest>, DocumentError> {
    let mut requests = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let number = index + 1;
        let value = Value::deserialize(document).map_err(|source| DocumentError::NotYaml {
            document: number,
            source,
        })?;
        if value.is_null() {
            continue;
        }
        let objects = match value["kind"].as_str() {
            Some(kind) if kind.ends_with("List") && value["items"].is_array() => {
                value["items"].as_array().cloned().unwrap_or_default()
            }
            _ => vec![value],
        };
        for object in objects {
            let field = |path: &[&str], name: &'static str| {
                path.iter()
                    .try_fold(&object, |v, key| v.get(*key))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or(DocumentError::Missing {
                        document: number,
                        field: name,
                    })
            };
            let api_version = field(&["apiVersion"], "apiVersion")?;
            let kind = field(&["kind"], "kind")?;
            let name = field(&["metadata", "name"], "metadata.name")?;
            let group = api_version
                .split_once('/')
                .map(|(group, _)| group.to_string());
            requests.push(DeleteRequest {
                resource: None,
                kind,
                group,
                namespace: field(&["metadata", "namespace"], "metadata.namespace")
                    .ok()
                    .or_else(|| namespace.map(str::to_string)),
                name,
            });
        }
    }
    Ok(requests)
}

#[cfg(test)]
mod tests;
