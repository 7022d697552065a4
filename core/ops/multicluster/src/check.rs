//! `strait multicluster check`: Linkerd's multicluster checks for each Link
//! of this (source) cluster, printed as `linkerd check` prints them (`√`
//! passed, `‼` worth knowing, `×` failed, with the reason indented below),
//! against a local or a Kubernetes cluster alike.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Endpoints, Secret, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use strait_api::labels::{
    KUBECONFIG_KEY, MIRROR_CLUSTER_NAME, REMOTE_DISCOVERY, REMOTE_KUBECONFIG_SECRET_TYPE,
};
use strait_api::link::Link;
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, LINK_NAMESPACE, MULTICLUSTER_NAMESPACE, service_mirror,
};

use crate::cluster::{Cluster, Flavor, labels_of};
use crate::error::ClusterError;
use crate::probe::{ProbeTarget, Seen, health};
use crate::report::{Report, Reporter};
use crate::selector::selects;

/// The name of the Link CRD.
const LINK_CRD: &str = "links.multicluster.linkerd.io";

/// Runs every check of the cluster's Links, handing each line of the
/// report (headings included) to `out` as it is known, in `linkerd
/// check`'s layout.
pub async fn report<C: Cluster>(cluster: &C, out: &mut dyn FnMut(&str)) -> Report {
    let mut reporter = Reporter::new(out);
    reporter.heading("linkerd-multicluster");
    if let Err(err) = check_all(cluster, &mut reporter).await {
        reporter.fail("reading this cluster", &err.to_string());
    }
    reporter.finish()
}

async fn check_all<C: Cluster>(cluster: &C, report: &mut Reporter<'_>) -> Result<(), ClusterError> {
    match cluster.flavor() {
        Flavor::Local => report.pass("Link CRD exists (built into the embedded store)"),
        Flavor::Kubernetes => match cluster.get::<CustomResourceDefinition>("", LINK_CRD).await {
            Ok(Some(_)) => report.pass("Link CRD exists"),
            Ok(None) => report.fail(
                "Link CRD exists",
                &format!("CustomResourceDefinition {LINK_CRD} not found; install the multicluster extension with `strait multicluster install`"),
            ),
            Err(err) => report.fail("Link CRD exists", &err.to_string()),
        },
    }
    let links: Vec<Link> = cluster.list(None).await?;
    let controllers = match cluster.flavor() {
        Flavor::Local => None,
        Flavor::Kubernetes => Some(
            cluster
                .list::<Deployment>(Some(MULTICLUSTER_NAMESPACE))
                .await?,
        ),
    };
    if links.is_empty() {
        report.pass("no Links to check");
    }
    for link in &links {
        check_link(cluster, link, controllers.as_deref(), report).await;
    }
    if let Some(controllers) = &controllers {
        check_orphan_controllers(&links, controllers, report);
    }
    Ok(())
}

/// A service mirror controller whose Link is gone mirrors nothing and holds
/// on to the target's credentials.
fn check_orphan_controllers(links: &[Link], controllers: &[Deployment], report: &mut Reporter<'_>) {
    let mut orphans: Vec<String> = controllers
        .iter()
        .filter_map(|d| d.metadata.name.clone())
        .filter(|name| name.starts_with("controller-"))
        .filter(|name| {
            !links
                .iter()
                .any(|l| l.metadata.name.as_deref().map(service_mirror).as_ref() == Some(name))
        })
        .collect();
    orphans.sort();
    let what = "every service mirror controller has a Link";
    if orphans.is_empty() {
        report.pass(what);
    } else {
        report.fail(
            what,
            &format!(
                "Deployments in {MULTICLUSTER_NAMESPACE} without a Link: {}; remove them with `strait multicluster unlink`, or link again with `strait multicluster link-gen`",
                orphans.join(", ")
            ),
        );
    }
}

/// Whether a selector selects nothing (unset or empty).
fn selects_nothing(s: Option<&LabelSelector>) -> bool {
    s.is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
            && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
    })
}

/// The checks of one Link, each depending on the ones before it: a check
/// that cannot run because an earlier one failed is not printed.
async fn check_link<C: Cluster>(
    cluster: &C,
    link: &Link,
    controllers: Option<&[Deployment]>,
    report: &mut Reporter<'_>,
) {
    let name = link.metadata.name.clone().unwrap_or_default();
    let namespace = link.metadata.namespace.clone().unwrap_or_default();
    let label = format!("Link {name}");
    let spec = &link.spec;
    let (Some(target), Some(secret_name)) = (
        spec.target_cluster_name
            .as_deref()
            .filter(|t| !t.is_empty()),
        spec.cluster_credentials_secret
            .as_deref()
            .filter(|s| !s.is_empty()),
    ) else {
        return report.fail(
            &format!("{label} is valid"),
            "targetClusterName and clusterCredentialsSecret are required",
        );
    };
    if let Some(port) = &spec.gateway_port
        && port.parse::<u16>().is_err()
    {
        return report.fail(
            &format!("{label} is valid"),
            &format!("gatewayPort {port:?} is not a port number"),
        );
    }
    if let Some(Err(why)) = ProbeTarget::of(link) {
        return report.fail(&format!("{label} is valid"), &why.to_string());
    }
    report.pass(&format!("{label} is valid"));
    if namespace != LINK_NAMESPACE {
        return report.fail(
            &format!("{label} is in {LINK_NAMESPACE}"),
            &format!(
                "it is in {namespace}, where no service mirror or destination service follows \
                 it; generate it again with `strait multicluster link-gen` and delete this one"
            ),
        );
    }
    if selects_nothing(spec.selector.as_ref())
        && selects_nothing(spec.remote_discovery_selector.as_ref())
    {
        report.warn(
            &format!("{label} selects Services to mirror"),
            "selector and remoteDiscoverySelector are both unset or empty: nothing will be mirrored",
        );
    }
    check_controller(&name, &label, controllers, report);
    check_gateway(cluster, link, &label, report).await;

    let credentials = format!("{label} credentials resolve");
    let remote = match resolve_credentials(cluster, &namespace, secret_name).await {
        Ok(remote) => remote,
        Err(why) => return report.fail(&credentials, &why.to_string()),
    };
    report.pass(&credentials);
    // The destination service's copy, which remote discovery goes through.
    let copy = format!("{label} credentials resolve for the destination service");
    match resolve_credentials(cluster, CONTROL_PLANE_NAMESPACE, secret_name).await {
        Ok(_) => report.pass(&copy),
        Err(why) => report.fail(
            &copy,
            &format!(
                "{why}: remote-discovery mirrors of this Link cannot resolve; apply the output \
                 of `strait multicluster link-gen` again"
            ),
        ),
    }

    let reach = format!("{label} reaches cluster {}", remote.name());
    let (source_facts, target_facts) = match (cluster.facts().await, remote.facts().await) {
        (Ok(source), Ok(target)) => (source, target),
        (Err(err), _) | (_, Err(err)) => return report.fail(&reach, &err.to_string()),
    };
    report.pass(&reach);
    let anchors = format!("{label} shares this cluster's trust anchors");
    if source_facts.trust_anchors_pem.trim().is_empty() {
        report.fail(&anchors, "this cluster's trust anchors cannot be read");
    } else if target_facts.trust_anchors_pem.trim().is_empty() {
        report.warn(
            &anchors,
            "the target's trust anchors cannot be read with the Link's credentials (ConfigMap linkerd-identity-trust-roots, or identityTrustAnchorsPEM in linkerd-config)",
        );
    } else if source_facts.trust_anchors_pem.trim() == target_facts.trust_anchors_pem.trim() {
        report.pass(&anchors);
    } else {
        report.fail(
            &anchors,
            "the clusters' trust anchors differ: pods cannot verify each other's identities",
        );
    }
    check_mirrors(cluster, &remote, link, target, &label, report).await;
}

/// On Kubernetes, the Link's service mirror is the Deployment
/// `controller-NAME`; a local cluster runs one for every Link itself.
fn check_controller(
    name: &str,
    label: &str,
    controllers: Option<&[Deployment]>,
    report: &mut Reporter<'_>,
) {
    let what = format!("{label} has a service mirror controller");
    let Some(controllers) = controllers else {
        return report.pass(&format!("{what} (strait local runs one for every Link)"));
    };
    let wanted = service_mirror(name);
    match controllers
        .iter()
        .find(|d| d.metadata.name.as_deref() == Some(wanted.as_str()))
    {
        None => report.fail(
            &what,
            &format!(
                "no Deployment {wanted} in {MULTICLUSTER_NAMESPACE}; install one with `strait multicluster install`"
            ),
        ),
        Some(deployment) => {
            let ready = deployment
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            if ready > 0 {
                report.pass(&what);
            } else {
                report.fail(
                    &what,
                    &format!("Deployment {wanted} in {MULTICLUSTER_NAMESPACE} has no ready replica"),
                );
            }
        }
    }
}

/// A gateway-mode Link's gateway must answer its probe, or its mirrors'
/// endpoints are marked not ready.
async fn check_gateway<C: Cluster>(
    cluster: &C,
    link: &Link,
    label: &str,
    report: &mut Reporter<'_>,
) {
    let Some(Ok(health)) = health(cluster, link).await else {
        return;
    };
    let what = format!("{label} gateway is alive");
    let seen = match health.seen {
        Seen::ByMirror => "its service mirror's probe",
        Seen::FromHere => "probed from here",
    };
    if health.alive {
        let latency = health.latency.map(|l| format!(", {l}")).unwrap_or_default();
        report.pass(&format!("{what} ({seen}{latency})"));
    } else {
        let why = health.why.unwrap_or_else(|| "no answer".into());
        report.fail(&what, &format!("{why} ({seen})"));
    }
}

/// Every remote Service the Link exports has its mirror here, and gateway
/// mirrors have endpoints.
async fn check_mirrors<C: Cluster, R: Cluster>(
    cluster: &C,
    remote: &R,
    link: &Link,
    target: &str,
    label: &str,
    report: &mut Reporter<'_>,
) {
    let spec = &link.spec;
    let mirrors_what = format!("{label} mirrors exported Services");
    let remote_services: Vec<Service> = match remote.list(None).await {
        Ok(services) => services,
        Err(err) => return report.fail(&mirrors_what, &err.to_string()),
    };
    let local: Vec<Service> = match cluster.list(None).await {
        Ok(services) => services,
        Err(err) => return report.fail(&mirrors_what, &err.to_string()),
    };
    let exported: Vec<(&Service, bool)> = remote_services
        .iter()
        .filter_map(|svc| {
            let labels = labels_of(&svc.metadata);
            if selects(spec.remote_discovery_selector.as_ref(), &labels) {
                Some((svc, true))
            } else if selects(spec.selector.as_ref(), &labels) {
                Some((svc, false))
            } else {
                None
            }
        })
        .collect();
    let mut missing = Vec::new();
    let mut gateway_mirrors = Vec::new();
    let mut remote_discovery = 0;
    for (svc, pod_to_pod) in &exported {
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let mirror = format!("{}-{target}", svc.metadata.name.as_deref().unwrap_or(""));
        let found = local.iter().find(|m| {
            m.metadata.namespace.as_deref() == Some(ns.as_str())
                && m.metadata.name.as_deref() == Some(mirror.as_str())
                && labels_of(&m.metadata)
                    .get(MIRROR_CLUSTER_NAME)
                    .map(String::as_str)
                    == Some(target)
        });
        match found {
            None => missing.push(format!("{ns}/{mirror}")),
            Some(m) if *pod_to_pod || labels_of(&m.metadata).contains_key(REMOTE_DISCOVERY) => {
                remote_discovery += 1;
            }
            Some(_) => gateway_mirrors.push((ns, mirror)),
        }
    }
    let mirrors = format!("{mirrors_what} ({} exported)", exported.len());
    if missing.is_empty() {
        report.pass(&mirrors);
    } else {
        report.fail(
            &mirrors,
            &format!("missing mirror Services: {}", missing.join(", ")),
        );
    }
    let reporting = link
        .status
        .as_ref()
        .and_then(|s| s.mirror_services.as_ref())
        .is_some_and(|entries| !entries.is_empty());
    if !exported.is_empty() && !reporting {
        report.warn(
            &format!("{label} service mirror reports its mirrors"),
            "no controller has reported mirrored Services in the Link's status",
        );
    }
    check_endpoints(cluster, label, &gateway_mirrors, remote_discovery, report).await;
}

/// Gateway-mode mirrors need Endpoints; remote-discovery mirrors have none
/// by design (the destination service resolves the remote pods).
async fn check_endpoints<C: Cluster>(
    cluster: &C,
    label: &str,
    gateway_mirrors: &[(String, String)],
    remote_discovery: usize,
    report: &mut Reporter<'_>,
) {
    let what = format!("{label} mirrors have endpoints");
    let note = match remote_discovery {
        0 => String::new(),
        1 => " (1 remote-discovery mirror resolves remote pods directly)".into(),
        n => format!(" ({n} remote-discovery mirrors resolve remote pods directly)"),
    };
    if gateway_mirrors.is_empty() {
        return report.pass(&format!("{what}{note}"));
    }
    let endpoints: Vec<Endpoints> = match cluster.list(None).await {
        Ok(endpoints) => endpoints,
        Err(err) => return report.fail(&what, &err.to_string()),
    };
    let empty: Vec<String> = gateway_mirrors
        .iter()
        .filter(|(ns, name)| {
            !endpoints.iter().any(|e| {
                e.metadata.namespace.as_deref() == Some(ns.as_str())
                    && e.metadata.name.as_deref() == Some(name.as_str())
                    && e.subsets
                        .iter()
                        .flatten()
                        .any(|s| s.addresses.as_ref().is_some_and(|a| !a.is_empty()))
            })
        })
        .map(|(ns, name)| format!("{ns}/{name}"))
        .collect();
    if empty.is_empty() {
        report.pass(&format!("{what}{note}"));
    } else {
        report.fail(
            &what,
            &format!(
                "gateway-mode mirrors without ready endpoints: {}",
                empty.join(", ")
            ),
        );
    }
}

/// Why a Link's credentials Secret does not reach its target.
#[derive(Debug, thiserror::Error)]
enum CredentialsError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("secrets {name:?} in {namespace} not found")]
    NotFound { name: String, namespace: String },
    #[error(
        "secret {name:?} in {namespace} has type {found:?}, not {REMOTE_KUBECONFIG_SECRET_TYPE}"
    )]
    WrongType {
        name: String,
        namespace: String,
        found: String,
    },
    #[error("secret {name:?} in {namespace} has no {KUBECONFIG_KEY} key")]
    NoKubeconfig { name: String, namespace: String },
    #[error("secret {name:?} in {namespace}: the kubeconfig is not text: {reason}")]
    NotText {
        name: String,
        namespace: String,
        reason: String,
    },
    #[error("secret {name:?} in {namespace}: {source}")]
    Unreachable {
        name: String,
        namespace: String,
        source: ClusterError,
    },
}

/// The cluster a credentials Secret reaches: the Secret must exist, be a
/// kubeconfig Secret, and its kubeconfig must name a reachable cluster.
async fn resolve_credentials<C: Cluster>(
    cluster: &C,
    namespace: &str,
    name: &str,
) -> Result<C::Remote, CredentialsError> {
    let (name, namespace) = (name.to_string(), namespace.to_string());
    let Some(secret) = cluster.get::<Secret>(&namespace, &name).await? else {
        return Err(CredentialsError::NotFound { name, namespace });
    };
    if secret.type_.as_deref() != Some(REMOTE_KUBECONFIG_SECRET_TYPE) {
        let found = secret.type_.unwrap_or_default();
        return Err(CredentialsError::WrongType {
            name,
            namespace,
            found,
        });
    }
    let Some(kubeconfig) = secret.data.as_ref().and_then(|d| d.get(KUBECONFIG_KEY)) else {
        return Err(CredentialsError::NoKubeconfig { name, namespace });
    };
    let text = match std::str::from_utf8(&kubeconfig.0) {
        Ok(text) => text,
        Err(e) => {
            let reason = e.to_string();
            return Err(CredentialsError::NotText {
                name,
                namespace,
                reason,
            });
        }
    };
    cluster
        .reach(text)
        .await
        .map_err(|source| CredentialsError::Unreachable {
            name,
            namespace,
            source,
        })
}

#[cfg(test)]
mod tests;
