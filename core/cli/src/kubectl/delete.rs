//! `strait delete KIND NAME...` / `strait delete KIND/NAME...`, reported as
//! kubectl reports it (`service "bb" deleted`).

use std::process::ExitCode;

use clap::Args;
use strait_local_api::LocalClient;
use strait_local_api::wire::DeleteRequest;

use super::resources::resolve_resource;
use super::{describe_error, kind_name};
use crate::context::{Scope, run_local};

/// `delete`'s arguments.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// `KIND NAME...` or `KIND/NAME...` (e.g. `svc bb`, `svc/bb`).
    #[arg(required = true)]
    targets: Vec<String>,
}

/// Deletes each named object; a missing one is reported and the rest are
/// still deleted, as with kubectl.
pub fn run(scope: &Scope, args: DeleteArgs) -> ExitCode {
    let targets = match parse_targets(&args.targets) {
        Ok(targets) => targets,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    run_local(scope, "delete", |client| {
        delete(client, scope.namespace.clone(), targets)
    })
}

async fn delete(
    client: LocalClient,
    namespace: Option<String>,
    targets: Vec<(String, String)>,
) -> ExitCode {
    let mut failed = false;
    for (resource, name) in targets {
        let resource = resolve_resource(&resource);
        let request = DeleteRequest {
            kind: resource.kind.clone(),
            group: resource.group.clone(),
            namespace: namespace.clone(),
            name,
        };
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

#[cfg(test)]
mod tests;
