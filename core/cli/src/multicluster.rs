//! `strait multicluster`: link clusters (`link-gen`) and check the links
//! (`check`), as `linkerd multicluster` does, against the clusters of a
//! running `strait local up`.

mod check;
mod link_gen;
mod selector;

use std::process::ExitCode;

use clap::Subcommand;

use crate::context::{Scope, Target, block_on, resolve};

/// The multicluster commands.
#[derive(Subcommand, Debug)]
pub enum MulticlusterCommand {
    /// Print the credentials Secret and the Link by which another cluster
    /// mirrors this one's exported Services, to apply there:
    /// `strait --context east multicluster link-gen --cluster-name=target
    /// --gateway=false | strait --context west apply -f -`.
    LinkGen(link_gen::LinkGenArgs),
    /// Check this cluster's Links: valid, credentials that resolve, a
    /// target that answers and mirrors of its exported Services. Exits 1
    /// when a check fails.
    Check,
}

/// Runs a multicluster command against the context's cluster.
pub fn run(scope: &Scope, command: MulticlusterCommand) -> ExitCode {
    let name = match &command {
        MulticlusterCommand::LinkGen(_) => "multicluster link-gen",
        MulticlusterCommand::Check => "multicluster check",
    };
    let client = match resolve(scope.context.as_deref()) {
        Ok(Target::Local(client)) => *client,
        Ok(Target::Kubernetes(context)) => {
            eprintln!("{name} is not yet supported against Kubernetes (context {context:?})");
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        MulticlusterCommand::LinkGen(args) => block_on(link_gen::run(client, args)),
        MulticlusterCommand::Check => block_on(check::run(client)),
    }
}
