//! `strait delete KIND NAME...` / `strait delete KIND/NAME...` /
//! `strait delete -f FILE|DIR|-`, reported as kubectl reports it
//! (`service "bb" deleted`).

use std::process::ExitCode;

use clap::Args;
use strait_kubectl::Kubectl;
use strait_kubectl::client::report;
use strait_kubectl::delete::{DeleteRequest, requests};
use strait_kubectl::names::kind_name;

use crate::context::{Scope, run_kubectl};

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
    run_kubectl(scope, |cluster| delete(cluster, requests))
}

async fn delete(cluster: Kubectl, requests: Vec<DeleteRequest>) -> ExitCode {
    let mut failed = false;
    for request in requests {
        let namespace = request
            .namespace
            .clone()
            .unwrap_or_else(|| cluster.default_namespace().to_string());
        let deleted = match request.kind_in(&cluster) {
            Ok(kind) => cluster.delete(&kind, &namespace, &request.name).await,
            Err(err) => Err(err),
        };
        match deleted {
            Ok(deleted) => println!(
                "{} {:?} deleted",
                kind_name(&deleted.group, &deleted.kind),
                deleted.name
            ),
            Err(err) => {
                failed = true;
                eprintln!("{}", report(&err));
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
