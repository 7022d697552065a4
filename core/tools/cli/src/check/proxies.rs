//! `linkerd-data-plane` (`--proxy`): every meshed pod is ready, and its
//! proxy trusts the cluster's current anchors.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use strait_mesh::env::IDENTITY_TRUST_ANCHORS;
use strait_mesh::names::PROXY_CONTAINER;
use strait_multicluster::report::Reporter;
use strait_multicluster::{Cluster, Facts};

use super::anchors_of;

/// At most this many pods are named in one line; the count says the rest.
const NAMED: usize = 5;

pub async fn check<C: Cluster>(
    cluster: &C,
    facts: &Facts,
    namespace: Option<&str>,
    report: &mut Reporter<'_>,
) {
    if let Some(namespace) = namespace {
        let what = "data plane namespace exists";
        match cluster.get::<Namespace>("", namespace).await {
            Ok(Some(_)) => report.pass(what),
            Ok(None) => return report.fail(what, &format!("namespace {namespace} does not exist")),
            Err(err) => return report.fail(what, &err.to_string()),
        }
    }
    let pods = match cluster.list::<Pod>(namespace).await {
        Ok(pods) => pods,
        Err(err) => return report.fail("data plane proxies are ready", &err.to_string()),
    };
    let meshed: Vec<&Pod> = pods
        .iter()
        .filter(|p| strait_sidecar::is_meshed(p))
        .collect();
    if meshed.is_empty() {
        return report.warn(
            "data plane proxies are ready",
            "no meshed pod found: nothing to check",
        );
    }
    let not_ready: Vec<String> = meshed
        .iter()
        .filter(|p| !strait_api::pod::is_ready(p))
        .map(|p| name(p))
        .collect();
    judge(
        report,
        "data plane proxies are ready",
        &not_ready,
        "not ready",
    );

    let Ok(anchors) = anchors_of(facts) else {
        return report.fail(
            "data plane proxies certificate match CA",
            "the cluster's trust anchors cannot be read",
        );
    };
    let mut stale = Vec::new();
    for pod in &meshed {
        match proxy_anchors(cluster, pod).await {
            Some(pem) if same_anchors(&pem, anchors.certificates_der()) => {}
            _ => stale.push(name(pod)),
        }
    }
    judge(
        report,
        "data plane proxies certificate match CA",
        &stale,
        "trust other anchors than the cluster's (restart them to pick up the current ones)",
    );
}

/// Passes when `faulty` is empty, else fails naming the first pods.
fn judge(report: &mut Reporter<'_>, what: &str, faulty: &[String], fault: &str) {
    if faulty.is_empty() {
        return report.pass(what);
    }
    let mut named: Vec<&str> = faulty.iter().take(NAMED).map(String::as_str).collect();
    if faulty.len() > NAMED {
        named.push("...");
    }
    report.fail(
        what,
        &format!("{} pod(s) {fault}: {}", faulty.len(), named.join(", ")),
    );
}

fn name(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

/// The anchors the pod's proxy was started with: its variable's value, or
/// the ConfigMap key it names in the pod's namespace.
async fn proxy_anchors<C: Cluster>(cluster: &C, pod: &Pod) -> Option<String> {
    let container = pod
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.name == PROXY_CONTAINER)?;
    let var = container
        .env
        .iter()
        .flatten()
        .find(|v| v.name == IDENTITY_TRUST_ANCHORS)?;
    if let Some(value) = &var.value {
        return Some(value.clone());
    }
    let key = var.value_from.as_ref()?.config_map_key_ref.as_ref()?;
    let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
    let config_map: ConfigMap = cluster.get(namespace, &key.name).await.ok()??;
    config_map.data?.get(&key.key).cloned()
}

/// Whether `pem` holds exactly the anchor certificates `anchors`.
fn same_anchors(pem: &str, anchors: &[Vec<u8>]) -> bool {
    strait_identity::TrustAnchor::from_pem("the proxy's trust anchors", pem.as_bytes())
        .is_ok_and(|theirs| theirs.certificates_der() == anchors)
}
