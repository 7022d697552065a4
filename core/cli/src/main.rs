//! `strait`: the command line of the strait service mesh.
#![forbid(unsafe_code)]

mod controller;
mod crds;
mod plugin;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// strait: a multicluster service mesh with WebAssembly policy plugins.
#[derive(Parser)]
#[command(name = "strait", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with export and authz plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Print the CustomResourceDefinitions strait uses, as YAML.
    ///
    /// Linkerd's Link, Server, ServerAuthorization, AuthorizationPolicy,
    /// MeshTLSAuthentication, NetworkAuthentication and HTTPRoute. Apply the
    /// output with `kubectl apply -f -`.
    Crds,
    /// Run a control-plane component against Kubernetes.
    #[command(subcommand)]
    Controller(controller::ControllerCommand),
}

/// Long-running components report what they do; one-shot commands only what
/// went wrong.
fn default_log_level(command: &Command) -> &'static str {
    match command {
        Command::Controller(_) => "info",
        _ => "warn",
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(default_log_level(&cli.command))
            }),
        )
        .init();
    match cli.command {
        Command::Plugin(command) => plugin::run(command),
        Command::Crds => crds::run(),
        Command::Controller(command) => controller::run(command),
    }
}
