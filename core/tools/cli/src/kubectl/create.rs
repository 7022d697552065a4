//! `strait create namespace NAME` (`ns`), as the guide runs
//! `kubectl --context west create ns mc-demo`.

use std::process::ExitCode;

use clap::Subcommand;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_local_api::LocalClient;

use strait_kubectl::names::{describe_error, object_name};

use crate::context::{Scope, run_local};

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

/// Creates the object, refusing to touch one that exists.
pub fn run(scope: &Scope, command: CreateCommand) -> ExitCode {
    match command {
        CreateCommand::Namespace { name } => {
            run_local(scope, "create", |client| create_namespace(client, name))
        }
    }
}

async fn create_namespace(client: LocalClient, name: String) -> ExitCode {
    let existing = match client.objects("Namespace", None, None).await {
        Ok(existing) => existing,
        Err(err) => {
            eprintln!("{}", describe_error(&err));
            return ExitCode::FAILURE;
        }
    };
    if existing
        .iter()
        .any(|ns| ns["metadata"]["name"] == name.as_str())
    {
        eprintln!("Error from server (AlreadyExists): namespaces {name:?} already exists");
        return ExitCode::FAILURE;
    }
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let text = match serde_json::to_string(&namespace) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match client.apply(&text, None).await {
        Ok(response) => {
            for result in &response.results {
                println!("{} created", object_name(&result.object));
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{}", describe_error(&err));
            ExitCode::FAILURE
        }
    }
}
