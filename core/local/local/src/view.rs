//! What `local up` shows: the live view while it runs, and the `viz`
//! tables of every cluster when it ends.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use strait_api::link::Link;
use strait_store::MemoryStore;

use crate::LocalMesh;
use crate::cluster::LocalCluster;

/// The window of the live view's traffic columns.
const LIVE_WINDOW: Duration = Duration::from_secs(30);

/// The scrapes a cluster's API serves, as `viz` reads them: the metrics text parsed.
/// A scrape whose text does not parse is left out (and logged), so one
/// broken proxy does not hide the others.
pub fn viz_pods(scrapes: Vec<strait_viz::wire::PodScrapes>) -> Vec<strait_viz::PodScrapes> {
    let parse = |scrape: strait_viz::wire::Scrape| match strait_viz::parse_metrics(&scrape.text) {
        Ok(samples) => Some(strait_viz::Scrape {
            at: SystemTime::UNIX_EPOCH + Duration::from_millis(scrape.at_unix_ms),
            samples,
        }),
        Err(error) => {
            tracing::warn!(%error, "a proxy's metrics did not parse");
            None
        }
    };
    scrapes
        .into_iter()
        .map(|pod| strait_viz::PodScrapes {
            namespace: pod.namespace,
            pod: pod.pod,
            deployment: pod.deployment,
            replicaset: pod.replicaset,
            statefulset: pod.statefulset,
            meshed: pod.meshed,
            ready: pod.ready,
            first: pod.first.and_then(parse),
            last: pod.last.and_then(parse),
        })
        .collect()
}

/// The pods of kept scrapes as viz describes pods, for the MESHED column
/// when Prometheus gives the traffic.
pub fn viz_pod_infos(scrapes: &[strait_viz::wire::PodScrapes]) -> Vec<strait_viz::PodInfo> {
    scrapes
        .iter()
        .map(|pod| strait_viz::PodInfo {
            namespace: pod.namespace.clone(),
            name: pod.pod.clone(),
            deployment: pod.deployment.clone(),
            replicaset: pod.replicaset.clone(),
            statefulset: pod.statefulset.clone(),
            meshed: pod.meshed,
            ready: pod.ready,
        })
        .collect()
}

/// Namespaces that run deployments, for the per-namespace tables.
fn namespaces(cluster: &LocalCluster) -> BTreeSet<String> {
    cluster
        .pods()
        .into_iter()
        .filter(|p| p.deployment.is_some())
        .map(|p| p.namespace)
        .collect()
}

/// `viz stat deploy` or `viz authz deploy` of `namespace` over `window`,
/// as a table.
fn table(
    report: strait_viz::Report,
    pods: &[strait_viz::PodScrapes],
    namespace: &str,
    window: Duration,
) -> String {
    strait_viz::Request {
        report,
        query: strait_viz::Query {
            namespace: Some(namespace.to_string()),
            resource: strait_viz::ResourceKind::Deployment,
            name: None,
            window,
        },
        output: strait_viz::Output::Table,
    }
    .answer_from_scrapes(pods, &[])
}

/// The `viz stat` and `viz authz` tables of every namespace with
/// deployments in every cluster, over `window`, headed by the command
/// that prints the same.
pub fn final_tables(mesh: &LocalMesh, window: Duration) -> String {
    let mut out = String::new();
    for cluster in mesh.clusters() {
        let pods = viz_pods(cluster.scrapes(window));
        for namespace in namespaces(cluster) {
            let name = cluster.name();
            let _ = writeln!(
                out,
                "$ strait --context {name} viz stat -n {namespace} deploy"
            );
            out.push_str(&table(strait_viz::Report::Stat, &pods, &namespace, window));
            ensure_newline(&mut out);
            let _ = writeln!(
                out,
                "\n$ strait --context {name} viz authz -n {namespace} deploy"
            );
            out.push_str(&table(strait_viz::Report::Authz, &pods, &namespace, window));
            ensure_newline(&mut out);
            out.push('\n');
        }
    }
    out
}

fn ensure_newline(out: &mut String) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn links(store: &MemoryStore) -> Vec<(String, String)> {
    store
        .objects()
        .into_iter()
        .filter(|(kind, _)| kind.kind == "Link")
        .filter_map(|(_, object)| {
            let link: Link = serde_json::from_value((*object).clone()).ok()?;
            let name = link.metadata.name.clone().unwrap_or_default();
            let mirrors: Vec<String> = store
                .objects()
                .into_iter()
                .filter(|(kind, o)| {
                    kind.kind == "Service"
                        && o["metadata"]["labels"]["mirror.linkerd.io/cluster-name"]
                            .as_str()
                            .is_some_and(|c| Some(c) == link.spec.target_cluster_name.as_deref())
                })
                .filter_map(|(_, o)| {
                    Some(format!(
                        "{}/{}",
                        o["metadata"]["namespace"].as_str()?,
                        o["metadata"]["name"].as_str()?
                    ))
                })
                .collect();
            let mirrors = if mirrors.is_empty() {
                "no mirrors".to_string()
            } else {
                mirrors.join(", ")
            };
            Some((name, mirrors))
        })
        .collect()
}

/// The live view: clusters, their pods, links and mirrors, and each
/// namespace's traffic over the last 30 s.
pub fn live_view(mesh: &LocalMesh) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "strait local: {} cluster(s), up {}s (Ctrl-C to stop)\n",
        mesh.clusters().len(),
        mesh.uptime().as_secs(),
    );
    for cluster in mesh.clusters() {
        let pods = cluster.pods();
        let ready = pods.iter().filter(|p| p.ready).count();
        let meshed = pods.iter().filter(|p| p.meshed).count();
        let api = mesh
            .kube_apis()
            .iter()
            .find(|a| a.name == cluster.name())
            .map_or("", |a| a.server.as_str());
        let _ = writeln!(
            out,
            "cluster {}: {} pods, {} ready, {} meshed; API {api}; control plane {}",
            cluster.name(),
            pods.len(),
            ready,
            meshed,
            cluster.control_plane_addr()
        );
        for pod in pods.iter().filter(|p| p.problem.is_some()) {
            let _ = writeln!(
                out,
                "  ! {}/{}: {}",
                pod.namespace,
                pod.name,
                pod.problem.as_deref().unwrap_or_default()
            );
        }
        for (link, mirrors) in links(cluster.store()) {
            let _ = writeln!(out, "  link {link}: {mirrors}");
        }
        let scrapes = viz_pods(cluster.scrapes(LIVE_WINDOW));
        for namespace in namespaces(cluster) {
            let _ = writeln!(out, "  traffic in {namespace} (last 30s):");
            for line in table(strait_viz::Report::Stat, &scrapes, &namespace, LIVE_WINDOW).lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        out.push('\n');
    }
    out
}
