//! `strait viz stat` and `strait viz authz`, as `linkerd viz` prints them:
//! from the proxies' metrics kept by `strait local up`, or from the
//! Prometheus that scrapes a Kubernetes cluster's proxies.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use k8s_openapi::api::core::v1::Pod;
use strait_store::{ClusterStore, WatchParams};
use strait_store_kube::KubeStore;
use strait_viz::{AuthzQuery, Output, PodInfo, ResourceKind, StatQuery};

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

fn parse_resource(words: &[String]) -> Result<(ResourceKind, Option<String>), String> {
    let (kind, name) = match words {
        [one] => match one.split_once('/') {
            Some((kind, name)) => (kind, Some(name.to_string())),
            None => (one.as_str(), None),
        },
        [kind, name] => (kind.as_str(), Some(name.clone())),
        _ => return Err("expected a resource such as deploy or deploy/bb".into()),
    };
    let kind = match kind {
        "deploy" | "deployment" | "deployments" => ResourceKind::Deployment,
        "po" | "pod" | "pods" => ResourceKind::Pod,
        other => {
            return Err(format!(
                "{other:?} is not a resource viz reports on: use deploy or po"
            ));
        }
    };
    Ok((kind, name.filter(|n| !n.is_empty())))
}

pub fn run(scope: &Scope, command: VizCommand) -> ExitCode {
    let (authz, args) = match command {
        VizCommand::Stat(args) => (false, args),
        VizCommand::Authz(args) => (true, args),
    };
    let window = match strait_viz::parse_window(&args.time_window) {
        Ok(window) => window,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let (resource, name) = match parse_resource(&args.resource) {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
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
    let target = match resolve(scope.context.as_deref()) {
        Ok(target) => target,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    block_on(async move {
        let text = match target {
            Target::Local(client) => {
                let scrapes = match client.scrapes(window).await {
                    Ok(scrapes) => scrapes,
                    Err(err) => {
                        eprintln!("error: {err}");
                        return ExitCode::FAILURE;
                    }
                };
                match args.prometheus_url {
                    Some(url) => {
                        let pods = local_pods(scrapes);
                        let query = Query {
                            authz,
                            namespace,
                            resource,
                            name,
                            window,
                            output,
                        };
                        match query.answer_from(&url, pods).await {
                            Ok(text) => text,
                            Err(err) => {
                                eprintln!("error: {err}");
                                return ExitCode::FAILURE;
                            }
                        }
                    }
                    None => {
                        let pods = strait_local::viz_pods(scrapes);
                        if authz {
                            let query = AuthzQuery {
                                namespace,
                                resource,
                                name,
                                window,
                            };
                            strait_viz::format_authz(
                                &strait_viz::authz_from_scrapes(&query, &pods),
                                output,
                            )
                        } else {
                            let query = StatQuery {
                                namespace,
                                resource,
                                name,
                                window,
                            };
                            let rows = strait_viz::stat_from_scrapes(&query, &pods);
                            strait_viz::format_stat_for(&query, &rows, output)
                        }
                    }
                }
            }
            Target::Kubernetes { context, .. } => {
                let Some(url) = args.prometheus_url else {
                    eprintln!(
                        "error: viz against Kubernetes context {context:?} reads Prometheus: pass --prometheus-url (Linkerd viz's Prometheus, e.g. port-forwarded)"
                    );
                    return ExitCode::FAILURE;
                };
                let pods = if authz {
                    Vec::new()
                } else {
                    match kube_pods(&context, namespace.as_deref()).await {
                        Ok(pods) => pods,
                        Err(err) => {
                            eprintln!("error: {err}");
                            return ExitCode::FAILURE;
                        }
                    }
                };
                let query = Query {
                    authz,
                    namespace,
                    resource,
                    name,
                    window,
                    output,
                };
                match query.answer_from(&url, pods).await {
                    Ok(text) => text,
                    Err(err) => {
                        eprintln!("error: {err}");
                        return ExitCode::FAILURE;
                    }
                }
            }
        };
        if text.trim() == strait_viz::NO_TRAFFIC {
            eprintln!("{}", text.trim_end());
        } else {
            print!("{text}");
        }
        ExitCode::SUCCESS
    })
}

/// A viz query answered from Prometheus.
struct Query {
    authz: bool,
    namespace: Option<String>,
    resource: ResourceKind,
    name: Option<String>,
    window: std::time::Duration,
    output: Output,
}

impl Query {
    /// The table (or JSON) from the Prometheus at `url`; `pods` give the
    /// MESHED column of `viz stat`.
    async fn answer_from(self, url: &str, pods: Vec<PodInfo>) -> Result<String, String> {
        let Query {
            authz,
            namespace,
            resource,
            name,
            window,
            output,
        } = self;
        if authz {
            let query = AuthzQuery {
                namespace,
                resource,
                name,
                window,
            };
            strait_viz::authz_from_prometheus(url, &query)
                .await
                .map(|rows| strait_viz::format_authz(&rows, output))
                .map_err(|e| e.to_string())
        } else {
            let query = StatQuery {
                namespace,
                resource,
                name,
                window,
            };
            strait_viz::stat_from_prometheus(url, &query, &pods)
                .await
                .map(|rows| strait_viz::format_stat_for(&query, &rows, output))
                .map_err(|e| e.to_string())
        }
    }
}

/// The pods of a local cluster, for the MESHED column when Prometheus
/// gives the traffic.
fn local_pods(scrapes: Vec<strait_local_api::PodScrapes>) -> Vec<PodInfo> {
    scrapes
        .into_iter()
        .map(|pod| PodInfo {
            namespace: pod.namespace,
            name: pod.pod,
            deployment: pod.deployment,
            meshed: pod.meshed,
            ready: pod.ready,
        })
        .collect()
}

/// The pods of a Kubernetes context, for the MESHED column: meshed when a
/// proxy container runs in them; the deployment from the ReplicaSet owner.
async fn kube_pods(context: &str, namespace: Option<&str>) -> Result<Vec<PodInfo>, String> {
    let store = KubeStore::for_context(context)
        .await
        .map_err(|e| e.to_string())?;
    use futures::StreamExt;
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
    Ok(pods.iter().map(pod_info).collect())
}

fn pod_info(pod: &Pod) -> PodInfo {
    let meta = &pod.metadata;
    let labels = meta.labels.clone().unwrap_or_default();
    let deployment = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "ReplicaSet")
        .and_then(|o| {
            let hash = labels.get("pod-template-hash")?;
            o.name
                .strip_suffix(hash.as_str())
                .and_then(|n| n.strip_suffix('-'))
                .map(str::to_string)
        });
    let meshed = strait_sidecar::is_meshed(pod);
    let ready = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    PodInfo {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        deployment,
        meshed,
        ready,
    }
}
