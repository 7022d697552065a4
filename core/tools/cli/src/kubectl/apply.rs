//! `strait apply -f FILE|DIR|-`: objects from YAML or JSON into a cluster
//! by server-side apply, reported line by line as kubectl reports them
//! (`service/bb created`, `deployment.apps/bb configured`).

use std::process::ExitCode;

use clap::Args;
use strait_kubectl::Kubectl;
use strait_kubectl::apply::AppliedObject;
use strait_kubectl::names::object_name;
use strait_kubectl::sources::{Source, read_sources};

use crate::context::{Scope, run_kubectl};

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
    run_kubectl(scope, |cluster| {
        apply(cluster, scope.namespace.clone(), sources)
    })
}

async fn apply(cluster: Kubectl, namespace: Option<String>, sources: Vec<Source>) -> ExitCode {
    let mut failed = false;
    for source in sources {
        match strait_kubectl::apply::apply(&cluster, &source.text, namespace.as_deref()).await {
            Ok(results) => print_results(&results),
            Err(failure) => {
                print_results(&failure.applied);
                failed = true;
                eprintln!("{failure} (applying {:?})", source.name);
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
