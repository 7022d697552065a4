//! `strait create namespace NAME` (`ns`), as the guide runs
//! `kubectl --context west create ns mc-demo`.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;

use strait_kubectl::Kubectl;
use strait_kubectl::client::report;
use strait_kubectl::names::object_name;

use crate::context::{Scope, run_kubectl};

/// What `create` makes.
#[derive(Subcommand, Debug)]
pub enum CreateCommand {
    /// Create a namespace; fails if it exists, as kubectl does.
    #[command(alias = "ns")]
    Namespace {
        /// The namespace's name.
        name: String,
    },
}

/// Creates the object; the server refuses one that exists.
pub fn run(scope: &Scope, command: CreateCommand) -> ExitCode {
    match command {
        CreateCommand::Namespace { name } => {
            run_kubectl(scope, |cluster| create_namespace(cluster, name))
        }
    }
}

async fn create_namespace(cluster: Kubectl, name: String) -> ExitCode {
    let Some(kind) = cluster.kind_of("Namespace", Some("")) else {
        eprintln!("error: the server doesn't have a resource type \"namespaces\"");
        return ExitCode::FAILURE;
    };
    let namespace = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name},
    });
    match cluster.create(&kind, None, namespace).await {
        Ok(_) => {
            println!("{} created", object_name(&kind.object(None, &name)));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{}", report(&err));
            ExitCode::FAILURE
        }
    }
}
