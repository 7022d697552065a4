//! `strait multicluster`: link clusters (`link-gen`, `unlink`) and check the
//! links (`check`, `gateways`), as `linkerd multicluster` does, against the
//! clusters of a running `strait local up` or a kubeconfig context alike.

mod install;

use std::process::ExitCode;

use clap::{ArgAction, Args, Subcommand};
use strait_multicluster::link_gen::{
    DEFAULT_FEDERATED_SERVICE_SELECTOR, DEFAULT_REMOTE_DISCOVERY_SELECTOR, DEFAULT_SELECTOR,
};
use strait_multicluster::{Cluster, LinkGenOptions, check, gateways, link_gen, unlink};

use crate::context::{Scope, block_on};

/// `link-gen`'s arguments, as Linkerd's.
#[derive(Args, Debug)]
pub struct LinkGenArgs {
    /// Name of this (target) cluster as the source cluster will know it:
    /// the Link's name and the suffix of mirror Services.
    #[arg(long)]
    cluster_name: String,
    /// Mirror through this cluster's gateway; `--gateway=false` for
    /// pod-to-pod links.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    gateway: bool,
    /// Gateway addresses (comma-separated); default: the gateway Service's
    /// load balancer addresses (on a local cluster, else its pods' IPs).
    #[arg(long)]
    gateway_addresses: Option<String>,
    /// Gateway port; default: the gateway Service's `mc-gateway` port, else 4143.
    #[arg(long)]
    gateway_port: Option<u16>,
    /// Services exported through the gateway.
    #[arg(long, default_value = DEFAULT_SELECTOR)]
    selector: String,
    /// Services exported in remote-discovery (pod-to-pod) mode.
    #[arg(long, default_value = DEFAULT_REMOTE_DISCOVERY_SELECTOR)]
    remote_discovery_selector: String,
    /// Services that join federated Services.
    #[arg(long, default_value = DEFAULT_FEDERATED_SERVICE_SELECTOR)]
    federated_service_selector: String,
    /// The API server address written into the credentials; default: the
    /// context's server in the kubeconfig (for a local cluster, the cluster).
    #[arg(long)]
    api_server_address: Option<String>,
}

impl From<LinkGenArgs> for LinkGenOptions {
    fn from(args: LinkGenArgs) -> Self {
        LinkGenOptions {
            cluster_name: args.cluster_name,
            gateway: args.gateway,
            gateway_addresses: args.gateway_addresses,
            gateway_port: args.gateway_port,
            selector: args.selector,
            remote_discovery_selector: args.remote_discovery_selector,
            federated_service_selector: args.federated_service_selector,
            api_server_address: args.api_server_address,
        }
    }
}

/// `unlink`'s arguments, as Linkerd's.
#[derive(Args, Debug)]
pub struct UnlinkArgs {
    /// The target cluster's name, as given to `link-gen --cluster-name`.
    #[arg(long)]
    cluster_name: String,
}

/// The multicluster commands.
#[derive(Subcommand, Debug)]
pub enum MulticlusterCommand {
    /// Print the credentials Secret and the Link by which another cluster
    /// mirrors this one's exported Services, to apply there:
    /// `strait --context east multicluster link-gen --cluster-name=target
    /// --gateway=false | strait --context west apply -f -`.
    LinkGen(LinkGenArgs),
    /// Print the objects linking this cluster to a target (the Link, its
    /// credentials, its service mirror and the mirrors it wrote), to delete:
    /// `strait --context west multicluster unlink --cluster-name=target |
    /// strait --context west delete -f -`.
    Unlink(UnlinkArgs),
    /// Check this cluster's Links: valid, a running service mirror,
    /// credentials that resolve, a target that answers, a live gateway and
    /// mirrors of its exported Services. Exits 1 when a check fails.
    Check,
    /// Print the multicluster extension's manifests as YAML, as `linkerd
    /// multicluster install`: the gateway (unless `--gateway=false`), the
    /// account linked clusters read this one as, and a service mirror per
    /// `--set controllers[N].link.ref.name=NAME`. Contacts no cluster.
    Install(install::InstallArgs),
    /// Show each gateway-mode Link's gateway: alive, the number of Services
    /// mirrored through it, and its probe's latency.
    Gateways,
}

/// Runs a multicluster command against the context's cluster.
pub fn run(scope: &Scope, command: MulticlusterCommand) -> ExitCode {
    if let MulticlusterCommand::Install(args) = command {
        return install::run(scope, args);
    }
    block_on(async move {
        match strait_multicluster::connect(scope.context.as_deref()).await {
            Ok(cluster) => dispatch(&cluster, command).await,
            Err(err) => failed(err),
        }
    })
}

/// Prints why a command failed; its exit code.
fn failed(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::FAILURE
}

/// Prints a command's YAML, or why there is none.
fn print_yaml<E: std::fmt::Display>(result: Result<String, E>) -> ExitCode {
    match result {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(err) => failed(err),
    }
}

async fn dispatch<C: Cluster>(cluster: &C, command: MulticlusterCommand) -> ExitCode {
    match command {
        MulticlusterCommand::LinkGen(args) => {
            print_yaml(link_gen::generate(cluster, &args.into()).await)
        }
        MulticlusterCommand::Unlink(args) => {
            print_yaml(unlink::objects(cluster, &args.cluster_name).await)
        }
        // Exit code 1 if any check failed.
        MulticlusterCommand::Check => {
            let report = check::report(cluster, &mut |line| println!("{line}")).await;
            if report.failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        // Exit code 1 only when the cluster cannot be read.
        MulticlusterCommand::Gateways => match gateways::rows(cluster).await {
            Ok(rows) => {
                print!("{}", gateways::render(&rows));
                ExitCode::SUCCESS
            }
            Err(err) => failed(err),
        },
        // Handled before any cluster is resolved, in `run`.
        MulticlusterCommand::Install(args) => install::run(&Scope::default(), args),
    }
}
