//! `strait label KIND/NAME key=value ... key-` (`--overwrite`), reported as
//! kubectl reports it (`service/bb labeled`).

use std::process::ExitCode;

use clap::Args;
use strait_kubectl::Kubectl;
use strait_kubectl::client::report;
use strait_kubectl::label::{LabelFailure, LabelRequest, parse};
use strait_kubectl::names::object_name;

use crate::context::{Scope, run_kubectl};

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
    run_kubectl(scope, |cluster| label(cluster, request))
}

async fn label(cluster: Kubectl, request: LabelRequest) -> ExitCode {
    match strait_kubectl::label::label(&cluster, &request).await {
        Ok(done) => {
            for warning in &done.warnings {
                eprintln!("{warning}");
            }
            println!("{} {}", object_name(&done.object), done.outcome);
            ExitCode::SUCCESS
        }
        Err(LabelFailure::Refused(err)) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
        Err(LabelFailure::Cluster(err)) => {
            eprintln!("{}", report(&err));
            ExitCode::FAILURE
        }
    }
}
