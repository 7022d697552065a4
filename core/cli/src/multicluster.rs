//! `strait multicluster`: link clusters (`link-gen`, `unlink`) and check the
//! links (`check`, `gateways`), as `linkerd multicluster` does, against the
//! clusters of a running `strait local up` or a kubeconfig context alike.

mod check;
mod cluster;
mod gateways;
mod install;
mod kubeconfig;
mod link_gen;
mod probe;
mod selector;
#[cfg(test)]
mod testing;
mod unlink;

use std::process::ExitCode;

use clap::Subcommand;

use crate::context::{Scope, Target, block_on, resolve};
pub(crate) use cluster::Facts;
use cluster::{Cluster, Local, Store};

/// The multicluster commands.
#[derive(Subcommand, Debug)]
pub enum MulticlusterCommand {
    /// Print the credentials Secret and the Link by which another cluster
    /// mirrors this one's exported Services, to apply there:
    /// `strait --context east multicluster link-gen --cluster-name=target
    /// --gateway=false | strait --context west apply -f -`.
    LinkGen(link_gen::LinkGenArgs),
    /// Print the objects linking this cluster to a target (the Link, its
    /// credentials, its service mirror and the mirrors it wrote), to delete:
    /// `strait --context west multicluster unlink --cluster-name=target |
    /// strait --context west delete -f -`.
    Unlink(unlink::UnlinkArgs),
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
    match resolve(scope.context.as_deref()) {
        Ok(Target::Local(client)) => block_on(async move {
            let cluster = Local::new(*client);
            dispatch(&cluster, command).await
        }),
        Ok(Target::Kubernetes(context)) => block_on(async move {
            match Store::for_context(&context).await {
                Ok(cluster) => dispatch(&cluster, command).await,
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::FAILURE
                }
            }
        }),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The naming and identity settings of the cluster `context` names (as
/// `--context` resolves it), for commands that render manifests for that
/// cluster (`strait inject`), as `linkerd inject` reads `linkerd-config`.
pub(crate) async fn context_facts(context: Option<&str>) -> Result<Facts, String> {
    match resolve(context)? {
        Target::Local(client) => Local::new(*client).facts().await,
        Target::Kubernetes(context) => Store::for_context(&context).await?.facts().await,
    }
}

async fn dispatch<C: Cluster>(cluster: &C, command: MulticlusterCommand) -> ExitCode {
    match command {
        MulticlusterCommand::LinkGen(args) => link_gen::run(cluster, args).await,
        MulticlusterCommand::Unlink(args) => unlink::run(cluster, args).await,
        MulticlusterCommand::Check => check::run(cluster).await,
        MulticlusterCommand::Gateways => gateways::run(cluster).await,
        // Handled before any cluster is resolved, in `run`.
        MulticlusterCommand::Install(args) => install::run(&Scope::default(), args),
    }
}
