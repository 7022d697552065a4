//! `strait multicluster check`: Linkerd's multicluster checks for each Link
//! of a local cluster, printed as `linkerd check` prints them (`√` passed,
//! `‼` worth knowing, `×` failed, with the reason indented below).

use std::collections::BTreeMap;
use std::process::ExitCode;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Deserialize;
use serde_json::Value;
use strait_api::labels::{MIRROR_CLUSTER_NAME, REMOTE_DISCOVERY};
use strait_api::link::Link;
use strait_local_api::{LocalClient, Registry};

use super::link_gen::{CREDENTIALS_TYPE, LOCAL_SCHEME};
use super::selector::selects;

/// The report being printed, and whether anything failed.
#[derive(Default)]
struct Report {
    failed: bool,
}

impl Report {
    fn pass(&mut self, what: &str) {
        println!("√ {what}");
    }

    fn warn(&mut self, what: &str, why: &str) {
        println!("‼ {what}\n    {why}");
    }

    fn fail(&mut self, what: &str, why: &str) {
        self.failed = true;
        println!("× {what}\n    {}", why.replace('\n', "\n    "));
    }
}

/// Checks every Link in the context's cluster; exit code 1 if any check failed.
pub async fn run(client: LocalClient) -> ExitCode {
    println!("linkerd-multicluster\n--------------------");
    let mut report = Report::default();
    match check_all(&client, &mut report).await {
        Ok(()) => {}
        Err(err) => report.fail("reading this cluster", &err),
    }
    println!(
        "\nStatus check results are {}",
        if report.failed { "×" } else { "√" }
    );
    if report.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn check_all(client: &LocalClient, report: &mut Report) -> Result<(), String> {
    let crds = client
        .objects(
            "CustomResourceDefinition",
            Some("apiextensions.k8s.io"),
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    if crds
        .iter()
        .any(|c| c["metadata"]["name"] == "links.multicluster.linkerd.io")
    {
        report.pass("Link CRD exists");
    } else {
        report.pass("Link CRD exists (built into the embedded store)");
    }
    let links = client
        .objects("Link", Some("multicluster.linkerd.io"), None)
        .await
        .map_err(|e| e.to_string())?;
    if links.is_empty() {
        report.pass("no Links to check");
        return Ok(());
    }
    for link in &links {
        check_link(client, link, report).await;
    }
    Ok(())
}

/// The checks of one Link, each depending on the ones before it: a check
/// that cannot run because an earlier one failed is not printed.
async fn check_link(client: &LocalClient, value: &Value, report: &mut Report) {
    let name = value["metadata"]["name"].as_str().unwrap_or("");
    let namespace = value["metadata"]["namespace"].as_str().unwrap_or("");
    let label = format!("Link {name}");
    let link: Link = match serde_json::from_value(value.clone()) {
        Ok(link) => link,
        Err(err) => return report.fail(&format!("{label} is valid"), &err.to_string()),
    };
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
    report.pass(&format!("{label} is valid"));
    let selects_nothing = |s: Option<&LabelSelector>| {
        s.is_none_or(|s| {
            s.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
                && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
        })
    };
    if selects_nothing(spec.selector.as_ref())
        && selects_nothing(spec.remote_discovery_selector.as_ref())
    {
        report.warn(
            &format!("{label} selects Services to mirror"),
            "selector and remoteDiscoverySelector are both unset or empty: nothing will be mirrored",
        );
    }

    let credentials = format!("{label} credentials resolve");
    let target_client = match resolve_credentials(client, namespace, secret_name).await {
        Ok(target) => target,
        Err(why) => return report.fail(&credentials, &why),
    };
    report.pass(&credentials);

    let reach = format!("{label} reaches cluster {}", target_client.context());
    let (source_info, target_info) = match (client.info().await, target_client.info().await) {
        (Ok(source), Ok(target)) => (source, target),
        (Err(err), _) | (_, Err(err)) => return report.fail(&reach, &err.to_string()),
    };
    report.pass(&reach);
    if source_info.trust_anchors_pem.trim() == target_info.trust_anchors_pem.trim() {
        report.pass(&format!("{label} shares this cluster's trust anchors"));
    } else {
        report.fail(
            &format!("{label} shares this cluster's trust anchors"),
            "the clusters' trust anchors differ: pods cannot verify each other's identities",
        );
    }

    let remote = match target_client.objects("Service", None, None).await {
        Ok(services) => services,
        Err(err) => {
            return report.fail(
                &format!("{label} mirrors exported Services"),
                &err.to_string(),
            );
        }
    };
    let exported: Vec<(&Value, bool)> = remote
        .iter()
        .filter_map(|svc| {
            let labels = labels_of(svc);
            if selects(spec.remote_discovery_selector.as_ref(), &labels) {
                Some((svc, true))
            } else if selects(spec.selector.as_ref(), &labels) {
                Some((svc, false))
            } else {
                None
            }
        })
        .collect();
    let local = match client.objects("Service", None, None).await {
        Ok(services) => services,
        Err(err) => {
            return report.fail(
                &format!("{label} mirrors exported Services"),
                &err.to_string(),
            );
        }
    };
    let mut missing = Vec::new();
    let mut gateway_mirrors = Vec::new();
    let mut remote_discovery = 0;
    for (svc, pod_to_pod) in &exported {
        let ns = svc["metadata"]["namespace"].as_str().unwrap_or("");
        let mirror = format!(
            "{}-{target}",
            svc["metadata"]["name"].as_str().unwrap_or("")
        );
        let found = local.iter().any(|m| {
            m["metadata"]["namespace"] == ns
                && m["metadata"]["name"] == mirror.as_str()
                && labels_of(m).get(MIRROR_CLUSTER_NAME).map(String::as_str) == Some(target)
        });
        if !found {
            missing.push(format!("{ns}/{mirror}"));
        } else if *pod_to_pod || local_is_remote_discovery(&local, ns, &mirror) {
            remote_discovery += 1;
        } else {
            gateway_mirrors.push((ns.to_string(), mirror));
        }
    }
    let mirrors = format!(
        "{label} mirrors exported Services ({} exported)",
        exported.len()
    );
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
            &format!("{label} has a service mirror controller"),
            "no controller has reported mirrored Services in the Link's status",
        );
    }
    check_endpoints(client, &label, &gateway_mirrors, remote_discovery, report).await;
}

/// Gateway-mode mirrors need Endpoints; remote-discovery mirrors have none
/// by design (the destination service resolves the remote pods).
async fn check_endpoints(
    client: &LocalClient,
    label: &str,
    gateway_mirrors: &[(String, String)],
    remote_discovery: usize,
    report: &mut Report,
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
    let endpoints = match client.objects("Endpoints", None, None).await {
        Ok(endpoints) => endpoints,
        Err(err) => return report.fail(&what, &err.to_string()),
    };
    let empty: Vec<String> = gateway_mirrors
        .iter()
        .filter(|(ns, name)| {
            !endpoints.iter().any(|e| {
                e["metadata"]["namespace"] == ns.as_str()
                    && e["metadata"]["name"] == name.as_str()
                    && e["subsets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|s| s["addresses"].as_array().is_some_and(|a| !a.is_empty()))
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

fn local_is_remote_discovery(local: &[Value], ns: &str, name: &str) -> bool {
    local.iter().any(|m| {
        m["metadata"]["namespace"] == ns
            && m["metadata"]["name"] == name
            && labels_of(m).contains_key(REMOTE_DISCOVERY)
    })
}

fn labels_of(object: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(object["metadata"]["labels"].clone()).unwrap_or_default()
}

/// The client of the cluster a credentials Secret names: the Secret must
/// exist, be a kubeconfig Secret, and name (`strait-local://<cluster>`) a
/// running local cluster.
async fn resolve_credentials(
    client: &LocalClient,
    namespace: &str,
    name: &str,
) -> Result<LocalClient, String> {
    let secrets = client
        .objects("Secret", None, Some(namespace))
        .await
        .map_err(|e| e.to_string())?;
    let value = secrets
        .into_iter()
        .find(|s| s["metadata"]["name"] == name)
        .ok_or_else(|| format!("secrets {name:?} in {namespace} not found"))?;
    let secret: Secret = serde_json::from_value(value)
        .map_err(|e| format!("secret {name:?} in {namespace} cannot be read: {e}"))?;
    if secret.type_.as_deref() != Some(CREDENTIALS_TYPE) {
        return Err(format!(
            "secret {name:?} in {namespace} has type {:?}, not {CREDENTIALS_TYPE}",
            secret.type_.as_deref().unwrap_or("")
        ));
    }
    let kubeconfig = secret
        .data
        .as_ref()
        .and_then(|d| d.get("kubeconfig"))
        .ok_or_else(|| format!("secret {name:?} in {namespace} has no kubeconfig key"))?;
    let text = std::str::from_utf8(&kubeconfig.0)
        .map_err(|e| format!("secret {name:?} in {namespace}: the kubeconfig is not text: {e}"))?;
    let server = server_of(text)
        .map_err(|e| format!("secret {name:?} in {namespace}: the kubeconfig {e}"))?;
    let Some(cluster) = server.strip_prefix(LOCAL_SCHEME) else {
        return Err(format!(
            "secret {name:?} in {namespace} points at {server}: not yet supported against Kubernetes"
        ));
    };
    let registry = Registry::from_env().map_err(|e| e.to_string())?;
    let context = registry
        .lookup(cluster)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "secret {name:?} in {namespace} names {server}, but no running `strait local up` serves cluster {cluster:?} (see {})",
                registry.path().display()
            )
        })?;
    LocalClient::new(cluster, &context.api).map_err(|e| e.to_string())
}

/// The server of the kubeconfig's current context.
fn server_of(text: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        clusters: Vec<NamedCluster>,
        #[serde(default)]
        contexts: Vec<NamedContext>,
        #[serde(default, rename = "current-context")]
        current_context: String,
    }
    #[derive(Deserialize)]
    struct NamedCluster {
        name: String,
        cluster: ClusterServer,
    }
    #[derive(Deserialize)]
    struct ClusterServer {
        server: String,
    }
    #[derive(Deserialize)]
    struct NamedContext {
        name: String,
        context: ContextCluster,
    }
    #[derive(Deserialize)]
    struct ContextCluster {
        cluster: String,
    }
    let config: Config =
        serde_norway::from_str(text).map_err(|e| format!("does not parse: {e}"))?;
    let cluster = config
        .contexts
        .iter()
        .find(|c| c.name == config.current_context)
        .map(|c| c.context.cluster.as_str())
        .or_else(|| config.clusters.first().map(|c| c.name.as_str()))
        .ok_or("names no cluster")?;
    config
        .clusters
        .iter()
        .find(|c| c.name == cluster)
        .map(|c| c.cluster.server.clone())
        .ok_or_else(|| format!("has no cluster {cluster:?}"))
}
