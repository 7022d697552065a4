//! `strait viz stat` and `strait viz authz`, as `linkerd viz` prints them:
//! from the proxies' metrics kept by `strait local up`, or from the
//! Prometheus that scrapes a Kubernetes cluster's proxies.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Service};
use strait_multicluster::cluster::PodProxy;
use strait_multicluster::{Flavor, KubeCluster};
use strait_store::{ClusterStore, WatchParams};
use strait_viz::wire::{PodScrapes, SCRAPES_PATH};
use strait_viz::{Output, PodInfo, Query, Report, Request, ResourceKind, ServiceRef, VizError};

use crate::context::{Scope, block_on};

/// `strait viz ...`.
#[derive(Subcommand)]
pub enum VizCommand {
    /// Traffic of deployments, pods, ReplicaSets, StatefulSets or
    /// namespaces (from their inbound metrics) or of Services (what meshed
    /// clients sent them): success rate, requests per second, latency
    /// percentiles and open connections.
    Stat(VizArgs),
    /// Traffic per route, server and authorization, with the requests each
    /// authorization admitted and those refused.
    Authz(VizArgs),
}

/// The output formats `linkerd viz` offers.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Columns, as `linkerd viz` prints them.
    Table,
    /// A JSON array with Linkerd's field names.
    Json,
    /// The table with more columns.
    Wide,
}

/// What both viz commands take.
#[derive(Args)]
pub struct VizArgs {
    /// The resource: `deploy`, `deploy/NAME`, `deploy NAME`, and likewise
    /// `po`, `rs`, `sts`, `ns` and `svc` (`viz stat` only).
    #[arg(required = true, num_args = 1..=2)]
    resource: Vec<String>,
    /// The window the rates are computed over (Go notation; at least 15s).
    #[arg(short = 't', long = "time-window", default_value = "1m")]
    time_window: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    output: Format,
    /// Every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Prometheus to query (Linkerd viz's, e.g. port-forwarded to
    /// http://localhost:9090). Required for a Kubernetes context; for a
    /// local context it replaces the metrics kept by `strait local up`
    /// (the MESHED column still comes from the local cluster's pods).
    #[arg(long)]
    prometheus_url: Option<String>,
}

pub fn run(scope: &Scope, command: VizCommand) -> ExitCode {
    let (report, args) = match command {
        VizCommand::Stat(args) => (Report::Stat, args),
        VizCommand::Authz(args) => (Report::Authz, args),
    };
    let request = match request(scope, report, &args) {
        Ok(request) => request,
        Err(error) => return failed(error),
    };
    let url = args.prometheus_url;
    block_on(async move {
        let answer = match strait_multicluster::connect(scope.context.as_deref()).await {
            Ok(cluster) => answer(&cluster, &request, url.as_deref()).await,
            Err(error) => Err(error.to_string()),
        };
        match answer {
            Ok(text) if text.trim() == strait_viz::NO_TRAFFIC.trim() => {
                eprintln!("{}", text.trim_end());
                ExitCode::SUCCESS
            }
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        }
    })
}

/// The command's request, from its flags and the scope's namespace.
fn request(scope: &Scope, report: Report, args: &VizArgs) -> Result<Request, VizError> {
    let window = strait_viz::parse_window(&args.time_window)?;
    let (resource, name) = strait_viz::parse_resource(&args.resource)?;
    if report == Report::Authz && resource == ResourceKind::Service {
        return Err(VizError::AuthzOfService);
    }
    // Namespaces are rows of their own, over every namespace.
    let namespace = if args.all_namespaces || resource == ResourceKind::Namespace {
        None
    } else {
        Some(scope.namespace.clone().unwrap_or_else(|| "default".into()))
    };
    let output = match args.output {
        Format::Table => Output::Table,
        Format::Json => Output::Json,
        Format::Wide => Output::Wide,
    };
    Ok(Request {
        report,
        query: Query {
            namespace,
            resource,
            name,
            window,
        },
        output,
    })
}

fn failed(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

/// The report of `cluster`: for a local cluster, from the metrics history
/// `strait local up` keeps (or from Prometheus, when given); for a
/// Kubernetes cluster, from Prometheus.
async fn answer(
    cluster: &KubeCluster,
    request: &Request,
    url: Option<&str>,
) -> Result<String, String> {
    use strait_multicluster::Cluster as _;
    let context = cluster.name();
    let services = match request.query.resource {
        ResourceKind::Service => services(cluster, request.query.namespace.as_deref()).await?,
        _ => Vec::new(),
    };
    if cluster.flavor() == Flavor::Local {
        let scrapes = local_scrapes(cluster, request).await?;
        return match url {
            Some(url) => {
                let pods = strait_local::viz_pod_infos(&scrapes);
                request
                    .answer_from_prometheus(url, &pods, &services)
                    .await
                    .map_err(|e| e.to_string())
            }
            None => Ok(request.answer_from_scrapes(&strait_local::viz_pods(scrapes), &services)),
        };
    }
    let Some(url) = url else {
        return Err(format!(
            "viz against Kubernetes context {context:?} reads Prometheus: pass --prometheus-url (Linkerd viz's Prometheus, e.g. port-forwarded)"
        ));
    };
    let pods = match request.report {
        Report::Authz => Vec::new(),
        Report::Stat => kube_pods(cluster, request.query.namespace.as_deref()).await?,
    };
    request
        .answer_from_prometheus(url, &pods, &services)
        .await
        .map_err(|e| e.to_string())
}

/// The Services of a context (of one namespace, or all), the rows of
/// `viz stat svc`.
async fn services(
    cluster: &KubeCluster,
    namespace: Option<&str>,
) -> Result<Vec<ServiceRef>, String> {
    use strait_multicluster::Cluster as _;
    let services: Vec<Service> = cluster
        .list(namespace)
        .await
        .map_err(|e| format!("listing services in context {:?}: {e}", cluster.name()))?;
    Ok(services
        .iter()
        .map(|s| ServiceRef {
            namespace: s.metadata.namespace.clone().unwrap_or_default(),
            name: s.metadata.name.clone().unwrap_or_default(),
        })
        .collect())
}

/// A local cluster's metrics history over the request's window, read from
/// its API server's scrapes endpoint.
async fn local_scrapes(
    cluster: &KubeCluster,
    request: &Request,
) -> Result<Vec<PodScrapes>, String> {
    let uri = format!(
        "{SCRAPES_PATH}?window_secs={}",
        request.query.window.as_secs().max(1)
    );
    let text = cluster
        .store()
        .raw_get(&uri)
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("GET {uri}: not the proxies' metrics: {e}"))
}

/// The pods of a Kubernetes context, for the MESHED column.
async fn kube_pods(cluster: &KubeCluster, namespace: Option<&str>) -> Result<Vec<PodInfo>, String> {
    use strait_multicluster::Cluster as _;
    let context = cluster.name();
    let store = cluster.store();
    let params = WatchParams {
        namespace: namespace.map(str::to_string),
        ..WatchParams::all()
    };
    let mut watch = store.watch::<Pod>(params);
    let pods = match watch.next().await {
        Some(Ok(strait_store::Event::Reset(pods))) => pods,
        Some(Ok(_)) | None => Vec::new(),
        Some(Err(e)) => return Err(format!("listing pods in context {context:?}: {e}")),
    };
    Ok(pods.iter().map(PodInfo::of).collect())
}
