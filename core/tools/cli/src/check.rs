//! `strait check`: the checks of `linkerd check` that apply to a strait
//! cluster, local or Kubernetes alike, printed as Linkerd prints them
//! (`√`, `‼`, `×`, a heading per section) and exiting 1 when one fails.
//!
//! By default: the API answers; the control plane is installed and ready;
//! the trust anchors (and, on Kubernetes, the issuer) are valid, chain and
//! are not about to expire; the plugins pushed are active. `--proxy` adds
//! the data plane: every meshed pod ready and holding the cluster's trust
//! anchors. `--pre` runs only what applies before installing.

mod identity;
mod plugins;
mod proxies;

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Args;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, DESTINATION, IDENTITY, POLICY};
use strait_multicluster::report::{Report, Reporter};
use strait_multicluster::{Cluster, Facts, Flavor};

use crate::context::{Scope, block_on};

/// How long before it expires a certificate is worth a warning, as
/// `linkerd check` warns.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(60 * 86_400);

/// The flags of `strait check`.
#[derive(Args)]
pub struct CheckArgs {
    /// Only the checks that apply before installing: the API answers and
    /// no control plane is installed yet.
    #[arg(long, conflicts_with = "proxy")]
    pre: bool,
    /// Also check the data plane: the meshed pods of the namespace (`-n`;
    /// every namespace without it) are ready and trust the cluster's
    /// anchors.
    #[arg(long)]
    proxy: bool,
}

/// What to check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Only the pre-install checks.
    pub pre: bool,
    /// The data plane checks too.
    pub proxy: bool,
    /// The data plane's namespace, or all.
    pub namespace: Option<String>,
}

pub fn run(scope: &Scope, args: CheckArgs) -> ExitCode {
    let options = Options {
        pre: args.pre,
        proxy: args.proxy,
        namespace: scope.namespace.clone(),
    };
    block_on(async move {
        let cluster = match strait_multicluster::connect(scope.context.as_deref()).await {
            Ok(cluster) => cluster,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        let report = report(&cluster, &options, SystemTime::now(), &mut |line| {
            println!("{line}")
        })
        .await;
        if report.failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// Runs the checks `options` ask for against `cluster` at time `now`,
/// handing each line to `out` as it is known.
pub async fn report<C: Cluster>(
    cluster: &C,
    options: &Options,
    now: SystemTime,
    out: &mut dyn FnMut(&str),
) -> Report {
    let mut report = Reporter::new(out);
    report.heading("kubernetes-api");
    report.pass("can initialize the client");
    let namespaces = match cluster.list::<Namespace>(None).await {
        Ok(namespaces) => {
            report.pass("can query the Kubernetes API");
            namespaces
        }
        Err(err) => {
            report.fail("can query the Kubernetes API", &err.to_string());
            return report.finish();
        }
    };
    if options.pre {
        pre(cluster, &namespaces, &mut report);
        return report.finish();
    }
    report.heading("linkerd-existence");
    let facts = match cluster.facts().await {
        Ok(facts) => {
            report.pass("'linkerd-config' config map exists");
            facts
        }
        Err(err) => {
            report.fail("'linkerd-config' config map exists", &err.to_string());
            return report.finish();
        }
    };
    control_plane_ready(cluster, &mut report).await;
    report.heading("linkerd-identity");
    identity::check(cluster, &facts, now, &mut report).await;
    report.heading("strait-plugins");
    plugins::check(cluster, &mut report).await;
    if options.proxy {
        report.heading("linkerd-data-plane");
        proxies::check(cluster, &facts, options.namespace.as_deref(), &mut report).await;
    }
    report.finish()
}

/// Before installing: no control plane in the way.
fn pre<C: Cluster>(cluster: &C, namespaces: &[Namespace], report: &mut Reporter<'_>) {
    report.heading("pre-kubernetes-setup");
    let what = "control plane namespace does not already exist";
    let exists = namespaces
        .iter()
        .any(|n| n.metadata.name.as_deref() == Some(CONTROL_PLANE_NAMESPACE));
    match (exists, cluster.flavor()) {
        (false, _) => report.pass(what),
        (true, Flavor::Local) => report.fail(
            what,
            &format!(
                "namespace {CONTROL_PLANE_NAMESPACE} exists: `strait local up` runs a control plane in every cluster it starts"
            ),
        ),
        (true, Flavor::Kubernetes) => report.fail(
            what,
            &format!(
                "namespace {CONTROL_PLANE_NAMESPACE} exists: a control plane (strait's or Linkerd's) is installed already"
            ),
        ),
    }
}

/// The control plane's Deployments each have a ready replica; a local
/// cluster runs its control plane inside `strait local up`.
async fn control_plane_ready<C: Cluster>(cluster: &C, report: &mut Reporter<'_>) {
    let what = "control plane pods are ready";
    if cluster.flavor() == Flavor::Local {
        return report.pass(&format!(
            "{what} (strait local runs the control plane in its own process)"
        ));
    }
    let mut missing = Vec::new();
    for component in [IDENTITY, DESTINATION, POLICY] {
        let name = component.workload;
        match cluster
            .get::<Deployment>(CONTROL_PLANE_NAMESPACE, name)
            .await
        {
            Ok(Some(deployment)) => {
                let ready = deployment
                    .status
                    .and_then(|s| s.ready_replicas)
                    .unwrap_or(0);
                if ready < 1 {
                    missing.push(format!("Deployment {name} has no ready replica"));
                }
            }
            Ok(None) => missing.push(format!(
                "no Deployment {name} in {CONTROL_PLANE_NAMESPACE}; install the control plane with `strait install`"
            )),
            Err(err) => missing.push(format!("Deployment {name}: {err}")),
        }
    }
    if missing.is_empty() {
        report.pass(what);
    } else {
        report.fail(what, &missing.join("\n"));
    }
}

/// The facts' trust anchors, or why they are unusable.
fn anchors_of(facts: &Facts) -> Result<strait_identity::TrustAnchor, String> {
    strait_identity::TrustAnchor::from_pem(
        "the cluster's trust anchors",
        facts.trust_anchors_pem.as_bytes(),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
