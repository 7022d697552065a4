//! `strait label KIND/NAME key=value ... key-` (`--overwrite`), reported as
//! kubectl reports it (`service/bb labeled`).

use std::process::ExitCode;

use clap::Args;
use strait_local_api::LocalClient;
use strait_local_api::wire::LabelRequest;

use strait_kubectl::label::parse;
use strait_kubectl::names::{describe_error, object_name};

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
