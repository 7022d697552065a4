//! `strait delete KIND NAME...` / `strait delete KIND/NAME...` /
//! `strait delete -f FILE|DIR|-`, reported as kubectl reports it
//! (`service "bb" deleted`).

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use serde::Deserialize;
use serde_json::Value;
use strait_local_api::LocalClient;
use strait_local_api::wire::DeleteRequest;

use super::resources::resolve_resource;
use super::{describe_error, kind_name};
use crate::context::{Scope, run_local};

/// `delete`'s arguments.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// `KIND NAME...` or `KIND/NAME...` (e.g. `svc bb`, `svc/bb`).
    #[arg(required_unless_present = "files", conflicts_with = "files")]
    targets: Vec<String>,
    /// The objects of a file, a directory (its *.yaml, *.yml and *.json
    /// files, in name order) or `-` for standard input; repeatable.
    #[arg(long = "filename", short = 'f')]
    files: Vec<String>,
}

/// Deletes each named object; a missing one is reported and the rest are
/// still deleted, as with kubectl.
pub fn run(scope: &Scope, args: DeleteArgs) -> ExitCode {
    let requests = if args.files.is_empty() {
        parse_targets(&args.targets).map(|targets| {
            targets
                .into_iter()
                .map(|(resource, name)| {
                    let resource = resolve_resource(&resource);
                    DeleteRequest {
                        kind: resource.kind.clone(),
                        group: resource.group.clone(),
                        namespace: scope.namespace.clone(),
                        name,
                    }
                })
                .collect()
        })
    } else {
        read_files(&args.files).and_then(|sources| {
            let mut requests = Vec::new();
            for (origin, text) in sources {
                requests.extend(
                    parse_documents(&text, scope.namespace.as_deref())
                        .map_err(|e| format!("{origin}: {e}"))?,
                );
            }
            Ok(requests)
        })
    };
    let requests = match requests {
        Ok(requests) => requests,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    run_local(scope, "delete", |client| delete(client, requests))
}

async fn delete(client: LocalClient, requests: Vec<DeleteRequest>) -> ExitCode {
    let mut failed = false;
    for request in requests {
        match client.delete(&request).await {
            Ok(done) => println!(
                "{} {:?} deleted",
                kind_name(&done.deleted.group, &done.deleted.kind),
                done.deleted.name
            ),
            Err(err) => {
                failed = true;
                eprintln!("{}", describe_error(&err));
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `(resource, name)` pairs from `svc bb cc` or `svc/bb deploy/cc`; the two
/// forms do not mix, as in kubectl.
pub fn parse_targets(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let first = args
        .first()
        .ok_or("name a kind and an object: KIND NAME or KIND/NAME")?;
    if first.contains('/') {
        return args
            .iter()
            .map(|arg| match arg.split_once('/') {
                Some((kind, name)) if !kind.is_empty() && !name.is_empty() => {
                    Ok((kind.to_string(), name.to_string()))
                }
                _ => Err(format!(
                    "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (got {arg:?})"
                )),
            })
            .collect();
    }
    let names = &args[1..];
    if names.is_empty() {
        return Err(format!(
            "name the {first} to delete: KIND NAME or KIND/NAME"
        ));
    }
    Ok(names.iter().map(|n| (first.clone(), n.clone())).collect())
}

/// Every `-f` source's text, read before anything is deleted so that a
/// missing file fails the command without a partial delete.
fn read_files(files: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut sources = Vec::new();
    for file in files {
        if file == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("reading standard input: {e}"))?;
            sources.push(("STDIN".to_string(), text));
            continue;
        }
        let path = Path::new(file);
        let mut paths = vec![path.to_path_buf()];
        if path.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| format!("the directory {file:?} cannot be read: {e}"))?;
            paths = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect();
            paths.sort();
        }
        for path in paths {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("the path {name:?} cannot be read: {e}"))?;
            sources.push((name, text));
        }
    }
    Ok(sources)
}

/// The objects a YAML (or JSON) stream names, as delete requests: each
/// document's `apiVersion`, `kind`, `metadata.name` and `metadata.namespace`
/// (else `namespace`, the `-n` flag); a `List`'s items count one by one.
/// Empty documents are skipped, as kubectl skips them.
pub fn parse_documents(text: &str, namespace: Option<&str>) -> Result<Vec<DeleteRequest>, String> {
    let mut requests = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document)
            .map_err(|e| format!("document {}: not YAML: {e}", index + 1))?;
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
            let field = |path: &[&str]| {
                path.iter()
                    .try_fold(&object, |v, key| v.get(*key))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let missing = |what: &str| format!("document {}: no {what}", index + 1);
            let api_version = field(&["apiVersion"]).ok_or_else(|| missing("apiVersion"))?;
            let kind = field(&["kind"]).ok_or_else(|| missing("kind"))?;
            let name = field(&["metadata", "name"]).ok_or_else(|| missing("metadata.name"))?;
            let group = api_version
                .split_once('/')
                .map(|(group, _)| group.to_string());
            requests.push(DeleteRequest {
                kind,
                group,
                namespace: field(&["metadata", "namespace"])
                    .or_else(|| namespace.map(str::to_string)),
                name,
            });
        }
    }
    Ok(requests)
}

#[cfg(test)]
mod tests;
