//! `strait get KIND [NAME...]`: objects as kubectl's tables
//! ([`strait_kubectl::get`]), YAML, JSON or names.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;
use strait_local_api::LocalClient;

use strait_kubectl::get::{list, name_of, plural_name, table};
use strait_kubectl::names::{describe_error, kind_name};
use strait_kubectl::resources::resolve_resource;

use crate::context::{Scope, run_local};

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
    run_local(scope, "get", |client| {
        get(client, scope.namespace.clone(), args)
    })
}

async fn get(client: LocalClient, namespace: Option<String>, args: GetArgs) -> ExitCode {
    let resource = resolve_resource(&args.resource);
    let namespace = if args.all_namespaces || !resource.namespaced {
        None
    } else {
        Some(namespace.unwrap_or_else(|| "default".into()))
    };
    let objects = match client
        .objects(
            &resource.kind,
            resource.group.as_deref(),
            namespace.as_deref(),
        )
        .await
    {
        Ok(objects) => objects,
        Err(err) => {
            eprintln!("{}", describe_error(&err));
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    let objects: Vec<Value> = if args.names.is_empty() {
        objects
    } else {
        let mut picked = Vec::new();
        for name in &args.names {
            match objects
                .iter()
                .find(|o| o["metadata"]["name"] == name.as_str())
            {
                Some(object) => picked.push(object.clone()),
                None => {
                    failed = true;
                    eprintln!(
                        "Error from server (NotFound): {} {name:?} not found",
                        plural_name(&resource)
                    );
                }
            }
        }
        picked
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
