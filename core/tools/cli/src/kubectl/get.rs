//! `strait get KIND [NAME...]`: objects as kubectl's tables
//! ([`strait_kubectl::get`]), YAML, JSON or names.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;
use strait_kubectl::client::{KubectlError, report};
use strait_kubectl::get::{list, name_of, table};
use strait_kubectl::names::kind_name;
use strait_kubectl::{Kind, Kubectl};

use crate::context::{Scope, run_kubectl};

/// `get`'s arguments.
#[derive(Args, Debug)]
pub struct GetArgs {
    /// The kind: `svc`, `services`, `pods`, `deploy`, `links`, `ns`, `sa`,
    /// `servers`, ... (kubectl's names).
    resource: String,
    /// Only these objects.
    names: Vec<String>,
    /// Objects of every namespace, with a NAMESPACE column.
    #[arg(long, short = 'A')]
    all_namespaces: bool,
    /// Output format: a table (default), YAML, JSON, or `kind/name` lines.
    #[arg(long, short = 'o', value_enum)]
    output: Option<Output>,
}

/// Output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Output {
    Yaml,
    Json,
    Name,
}

/// Lists the objects, or says there are none (on stderr, as kubectl).
pub fn run(scope: &Scope, args: GetArgs) -> ExitCode {
    run_kubectl(scope, |cluster| get(cluster, scope.namespace.clone(), args))
}

/// The objects asked for: every object of the kind, or the named ones,
/// each missing one reported as the server words it.
async fn objects(
    cluster: &Kubectl,
    kind: &Kind,
    namespace: Option<&str>,
    names: &[String],
) -> Result<(Vec<Value>, bool), KubectlError> {
    if names.is_empty() {
        return Ok((cluster.list(kind, namespace).await?, false));
    }
    let namespace = namespace.unwrap_or(cluster.default_namespace());
    let mut picked = Vec::new();
    let mut failed = false;
    for name in names {
        match cluster.get(kind, namespace, name).await {
            Ok(object) => picked.push(object),
            Err(err) => {
                failed = true;
                eprintln!("{}", report(&err));
            }
        }
    }
    Ok((picked, failed))
}

async fn get(cluster: Kubectl, namespace: Option<String>, args: GetArgs) -> ExitCode {
    let kind = match cluster.kind_named(&args.resource) {
        Ok(kind) => kind,
        Err(err) => {
            eprintln!("{}", report(&err));
            return ExitCode::FAILURE;
        }
    };
    let resource = kind.as_resource();
    let namespace = if args.all_namespaces || !resource.namespaced {
        None
    } else {
        Some(namespace.unwrap_or_else(|| cluster.default_namespace().to_string()))
    };
    let (objects, failed) = match objects(&cluster, &kind, namespace.as_deref(), &args.names).await
    {
        Ok(found) => found,
        Err(err) => {
            eprintln!("{}", report(&err));
            return ExitCode::FAILURE;
        }
    };
    if objects.is_empty() {
        if !failed {
            match &namespace {
                Some(ns) => eprintln!("No resources found in {ns} namespace."),
                None => eprintln!("No resources found"),
            }
        }
        return exit(failed);
    }
    match args.output {
        None => print!("{}", table(&resource, &objects, args.all_namespaces)),
        Some(Output::Name) => {
            for object in &objects {
                let group = object["apiVersion"]
                    .as_str()
                    .and_then(|v| v.rsplit_once('/'))
                    .map(|(g, _)| g)
                    .unwrap_or("");
                let kind = object["kind"].as_str().unwrap_or(&resource.kind);
                println!("{}/{}", kind_name(group, kind), name_of(object));
            }
        }
        Some(format @ (Output::Json | Output::Yaml)) => {
            // One named object prints as itself, anything else as a List.
            let value = match objects.as_slice() {
                [one] if !args.names.is_empty() => one.clone(),
                _ => list(objects),
            };
            let text = match format {
                Output::Json => serde_json::to_string_pretty(&value)
                    .map(|t| format!("{t}\n"))
                    .map_err(|e| e.to_string()),
                _ => serde_norway::to_string(&value).map_err(|e| e.to_string()),
            };
            match text {
                Ok(text) => print!("{text}"),
                Err(err) => {
                    eprintln!("error: {err}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    exit(failed)
}

fn exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
