//! `strait viz stat` and `strait viz authz`, as `linkerd viz` prints them:
//! from the proxies' metrics kept by `strait local up`, or from the
//! Prometheus that scrapes a Kubernetes cluster's proxies.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use strait_store::{ClusterStore, WatchParams};
use strait_store_kube::KubeStore;
use strait_viz::{Output, PodInfo, Query, Report, Request, VizError};

use crate::context::{Scope, Target, block_on, resolve};

/// `strait viz ...`.
#[derive(Subcommand)]
pub enum VizCommand {
    /// Traffic of deployments or pods: success rate, requests per second,
    /// latency percentiles and open connections, from inbound metrics.
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
    /// The resource: `deploy`, `deploy/NAME`, `deploy NAME`, `po`, `po/NAME`.
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
    let target = match resolve(scope.context.as_deref()) {
        Ok(target) => target,
        Err(error) => return failed(error),
    };
    let url = args.prometheus_url;
    block_on(async move {
        let answer = match target {
            Target::Local(client) => match client.scrapes(request.query.window).await {
                Ok(scrapes) => match url {
                    Some(url) => {
                        let pods = strait_local::viz_pod_infos(&scrapes);
                        request
                            .answer_from_prometheus(&url, &pods)
                            .await
                            .map_err(|e| e.to_string())
                    }
                    None => Ok(request.answer_from_scrapes(&strait_local::viz_pods(scrapes))),
                },
                Err(error) => Err(error.to_string()),
            },
            Target::Kubernetes { context, .. } => match url {
                None => Err(format!(
                    "viz against Kubernetes context {context:?} reads Prometheus: pass --prometheus-url (Linkerd viz's Prometheus, e.g. port-forwarded)"
                )),
                Some(url) => {
                    let pods = match request.report {
                        Report::Authz => Ok(Vec::new()),
                        Report::Stat => {
                            kube_pods(&context, request.query.namespace.as_deref()).await
                        }
                    };
                    match pods {
                        Ok(pods) => request
                            .answer_from_prometheus(&url, &pods)
                            .await
                            .map_err(|e| e.to_string()),
                        Err(error) => Err(error),
                    }
                }
            },
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
    let namespace = if args.all_namespaces {
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

/// The pods of a Kubernetes context, for the MESHED column.
async fn kube_pods(context: &str, namespace: Option<&str>) -> Result<Vec<PodInfo>, String> {
    let store = KubeStore::for_context(context)
        .await
        .map_err(|e| format!("kubeconfig context {context:?}: {e}"))?;
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
