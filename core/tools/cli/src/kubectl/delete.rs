//! `strait delete KIND NAME...` / `strait delete KIND/NAME...` /
//! `strait delete -f FILE|DIR|-`, reported as kubectl reports it
//! (`service "bb" deleted`).

use std::process::ExitCode;

use clap::Args;
use strait_kubectl::delete::requests;
use strait_kubectl::names::{describe_error, kind_name};
use strait_local_api::LocalClient;
use strait_local_api::wire::DeleteRequest;

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
    let requests = requests(&args.targets, &args.files, scope.namespace.as_deref());
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
