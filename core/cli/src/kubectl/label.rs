//! `strait label KIND/NAME key=value ... key-` (`--overwrite`), reported as
//! kubectl reports it (`service/bb labeled`).

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use strait_local_api::LocalClient;
use strait_local_api::wire::LabelRequest;

use super::resources::resolve_resource;
use super::{describe_error, object_name};
use crate::context::{Scope, run_local};

/// `label`'s arguments.
#[derive(Args, Debug)]
pub struct LabelArgs {
    /// `KIND/NAME` or `KIND NAME`, then `key=value` to set and `key-` to remove.
    #[arg(required = true, num_args = 2..)]
    args: Vec<String>,
    /// Allow changing the value of an existing label.
    #[arg(long)]
    overwrite: bool,
}

/// Sets and removes the labels in one request.
pub fn run(scope: &Scope, args: LabelArgs) -> ExitCode {
    let request = match parse(&args.args, args.overwrite, scope.namespace.clone()) {
        Ok(request) => request,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    run_local(scope, "label", |client| label(client, request))
}

async fn label(client: LocalClient, request: LabelRequest) -> ExitCode {
    match client.label(&request).await {
        Ok(done) => {
            for warning in &done.warnings {
                eprintln!("{warning}");
            }
            println!("{} {}", object_name(&done.object), done.outcome);
            ExitCode::SUCCESS
        }
        Err(err) => {
            match (err.status().map(|s| s.as_u16()), err.api_message()) {
                // A refused overwrite is kubectl's own error, not the server's.
                (Some(409), Some(message)) => eprintln!("error: {message}"),
                _ => eprintln!("{}", describe_error(&err)),
            }
            ExitCode::FAILURE
        }
    }
}

/// The request of `svc/bb a=b c-` (or `svc bb a=b c-`).
pub fn parse(
    args: &[String],
    overwrite: bool,
    namespace: Option<String>,
) -> Result<LabelRequest, String> {
    let (resource, name, rest) = match args.first().and_then(|a| a.split_once('/')) {
        Some((kind, name)) => (kind.to_string(), name.to_string(), &args[1..]),
        None => match args {
            [kind, name, rest @ ..] => (kind.clone(), name.clone(), rest),
            _ => return Err("name the object: KIND/NAME or KIND NAME".into()),
        },
    };
    if resource.is_empty() || name.is_empty() {
        return Err("name the object: KIND/NAME or KIND NAME".into());
    }
    let mut set = BTreeMap::new();
    let mut remove = Vec::new();
    for arg in rest {
        if let Some((key, value)) = arg.split_once('=') {
            set.insert(key.to_string(), value.to_string());
        } else if let Some(key) = arg.strip_suffix('-').filter(|k| !k.is_empty()) {
            remove.push(key.to_string());
        } else {
            return Err(format!(
                "invalid label spec {arg:?}: use key=value to set a label and key- to remove it"
            ));
        }
    }
    if set.is_empty() && remove.is_empty() {
        return Err("at least one label update is required".into());
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
