//! `strait`: the command line of the strait service mesh.

mod check;
mod context;
mod controller;
mod crds;
mod inject;
mod install;
mod kubectl;
mod local;
mod multicluster;
mod plugin;
mod proxy;
mod proxy_await;
mod proxy_init;
mod signal;
mod viz;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// strait: a multicluster service mesh with WebAssembly policy plugins.
#[derive(Parser)]
#[command(name = "strait", version, about)]
struct Cli {
    /// The cluster to talk to, as kubectl's `--context`: a cluster of a
    /// running `strait local up`, or a kubeconfig context.
    #[arg(long, global = true)]
    context: Option<String>,
    /// The namespace of namespaced objects, as kubectl's `-n`.
    #[arg(long, short = 'n', global = true)]
    namespace: Option<String>,
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
    /// MeshTLSAuthentication, NetworkAuthentication and HTTPRoute, and the
    /// Gateway API's HTTPRoute. Apply the output with `kubectl apply -f -`.
    Crds,
    /// Print the control plane's manifests (CRDs, identity, destination,
    /// policy, RBAC) as YAML, as `linkerd install --ignore-cluster`:
    /// `strait install | kubectl apply -f -`. Contacts no cluster.
    Install(install::InstallArgs),
    /// Run a control-plane component against Kubernetes.
    #[command(subcommand)]
    Controller(controller::ControllerCommand),
    /// Run the proxy: a pod's sidecar, configured by environment variables
    /// as Linkerd's proxy is, on Linkerd's ports.
    #[command(after_help = proxy::variables_help())]
    Proxy,
    /// Add the proxy to the workloads of Kubernetes manifests, as `linkerd
    /// inject --manual`: `strait inject app.yaml | kubectl apply -f -`.
    Inject(inject::InjectArgs),
    /// Redirect a pod's TCP traffic through its proxy with iptables: the
    /// init container of injected pods.
    ProxyInit(proxy_init::ProxyInitArgs),
    /// Wait until the proxy answers `/ready`: the start hook of an injected
    /// proxy container, so the application starts after its proxy.
    ProxyAwait(proxy_await::ProxyAwaitArgs),
    /// Create or update objects from YAML or JSON files, as `kubectl apply`.
    Apply(kubectl::apply::ApplyArgs),
    /// Create a namespace, as `kubectl create namespace`.
    #[command(subcommand)]
    Create(kubectl::create::CreateCommand),
    /// Delete objects by kind and name, as `kubectl delete`.
    Delete(kubectl::delete::DeleteArgs),
    /// Set or remove labels on an object, as `kubectl label`.
    Label(kubectl::label::LabelArgs),
    /// List objects of a kind, as `kubectl get`.
    Get(kubectl::get::GetArgs),
    /// Check the control plane, its certificates and plugins (and with
    /// `--proxy` the data plane), as `linkerd check`; exits 1 on a failure.
    Check(check::CheckArgs),
    /// Link clusters and check the links.
    #[command(subcommand)]
    Multicluster(multicluster::MulticlusterCommand),
    /// Run clusters on this machine, without Kubernetes.
    #[command(subcommand)]
    Local(local::LocalCommand),
    /// Traffic as the proxies see it: `viz stat` and `viz authz`.
    #[command(subcommand)]
    Viz(viz::VizCommand),
}

/// Long-running components report what they do; one-shot commands only what
/// went wrong.
fn default_log_level(command: &Command) -> &'static str {
    match command {
        Command::Controller(_) => "info",
        Command::Proxy => "warn,strait=info",
        Command::Local(_) => "warn",
        _ => "warn",
    }
}

/// `RUST_LOG` when set; for the proxy, Linkerd's `LINKERD2_PROXY_LOG` next
/// (sidecar specs set that); else the command's default. A filter that
/// does not parse falls back to the default rather than silencing logs.
fn log_filter(command: &Command) -> tracing_subscriber::EnvFilter {
    let from_env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|text| tracing_subscriber::EnvFilter::try_new(text).ok())
    };
    from_env("RUST_LOG")
        .or_else(|| match command {
            Command::Proxy => from_env(strait_proxy::LOG),
            _ => None,
        })
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(default_log_level(command)))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(log_filter(&cli.command))
        .init();
    let scope = context::Scope {
        context: cli.context,
        namespace: cli.namespace,
    };
    match cli.command {
        Command::Plugin(command) => plugin::run(command, &scope),
        Command::Crds => crds::run(),
        Command::Install(args) => install::run(&scope, args),
        Command::Controller(command) => controller::run(command),
        Command::Proxy => proxy::run(),
        Command::Inject(args) => inject::run(&scope, args),
        Command::ProxyInit(args) => proxy_init::run(args),
        Command::ProxyAwait(args) => proxy_await::run(args),
        Command::Apply(args) => kubectl::apply::run(&scope, args),
        Command::Create(command) => kubectl::create::run(&scope, command),
        Command::Delete(args) => kubectl::delete::run(&scope, args),
        Command::Label(args) => kubectl::label::run(&scope, args),
        Command::Get(args) => kubectl::get::run(&scope, args),
        Command::Check(args) => check::run(&scope, args),
        Command::Multicluster(command) => multicluster::run(&scope, command),
        Command::Local(command) => local::run(command),
        Command::Viz(command) => viz::run(&scope, command),
    }
}
