//! `strait apply -f FILE|DIR|-`: objects from YAML or JSON into a local
//! cluster, reported line by line as kubectl reports them
//! (`service/bb created`, `deployment.apps/bb configured`).

use std::process::ExitCode;

use clap::Args;
use strait_local_api::LocalClient;
use strait_local_api::wire::AppliedObject;

use strait_kubectl::names::{describe_error, object_name};
use strait_kubectl::sources::{Source, read_sources};

use crate::context::{Scope, run_local};

/// `apply`'s arguments.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// A file, a directory (its *.yaml, *.yml and *.json files, in name
    /// order) or `-` for standard input; repeatable.
    #[arg(long = "filename", short = 'f', required = true)]
    files: Vec<String>,
}

/// Applies every source in order; a failing source is reported and the
/// others still apply, and the exit code is then 1, as with kubectl.
pub fn run(scope: &Scope, args: ApplyArgs) -> ExitCode {
    let sources = match read_sources(&args.files) {
        Ok(sources) => sources,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    run_local(scope, "apply", |client| {
        apply(client, scope.namespace.clone(), sources)
    })
}

async fn apply(client: LocalClient, namespace: Option<String>, sources: Vec<Source>) -> ExitCode {
    let mut failed = false;
    for source in sources {
        match client.apply(&source.text, namespace.as_deref()).await {
            Ok(response) => print_results(&response.results),
            Err(err) => {
                print_results(err.applied());
                failed = true;
                let message = describe_error(&err);
                eprintln!("{message} (applying {:?})", source.name);
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_results(results: &[AppliedObject]) {
    for result in results {
        println!("{} {}", object_name(&result.object), result.outcome);
    }
}
