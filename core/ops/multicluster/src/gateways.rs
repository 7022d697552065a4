//! `strait multicluster gateways`: for each gateway-mode Link of this
//! (source) cluster, whether its gateway answers the Link's probe, how many
//! Services are mirrored through it, and the probe's latency, in the table
//! `linkerd multicluster gateways` prints. Alive and latency come from the
//! Link's service mirror where its metrics can be read (Kubernetes, through
//! the API server's pod proxy), else from a probe sent from here.

use k8s_openapi::api::core::v1::Service;
use strait_api::labels::{MIRROR_CLUSTER_NAME, REMOTE_DISCOVERY};
use strait_api::link::Link;

use crate::cluster::Cluster;
use crate::error::ClusterError;
use crate::probe::{Health, ProbeTarget, Seen, health};

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The target cluster's name.
    pub cluster: String,
    /// Whether the gateway answered its probe.
    pub alive: bool,
    /// Services mirrored through the gateway.
    pub services: usize,
    /// The probe's latency, when it answered.
    pub latency: Option<String>,
}

/// One row per gateway-mode Link, in the order of the Links' names.
pub async fn rows<C: Cluster>(cluster: &C) -> Result<Vec<Row>, ClusterError> {
    let mut links: Vec<Link> = cluster.list(None).await?;
    links.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let services: Vec<Service> = cluster.list(None).await?;
    let mut rows = Vec::new();
    for link in &links {
        if ProbeTarget::of(link).is_none() {
            continue;
        }
        let name = link
            .spec
            .target_cluster_name
            .clone()
            .or_else(|| link.metadata.name.clone())
            .unwrap_or_default();
        let mirrored = services
            .iter()
            .filter(|s| {
                let labels = s.metadata.labels.as_ref();
                labels.and_then(|l| l.get(MIRROR_CLUSTER_NAME)) == Some(&name)
                    && !labels.is_some_and(|l| l.contains_key(REMOTE_DISCOVERY))
            })
            .count();
        let health = match health(cluster, link).await {
            Some(Ok(health)) => health,
            _ => Health {
                alive: false,
                latency: None,
                why: None,
                seen: Seen::FromHere,
            },
        };
        rows.push(Row {
            cluster: name,
            alive: health.alive,
            services: mirrored,
            latency: health.latency,
        });
    }
    Ok(rows)
}

/// The table: `CLUSTER  ALIVE  NUM_SVC  LATENCY`, columns left-aligned two
/// spaces apart, `-` for the latency of a gateway that did not answer.
pub fn render(rows: &[Row]) -> String {
    let header = ["CLUSTER", "ALIVE", "NUM_SVC", "LATENCY"].map(str::to_string);
    let cells: Vec<[String; 4]> = std::iter::once(header)
        .chain(rows.iter().map(|r| {
            [
                r.cluster.clone(),
                if r.alive { "True" } else { "False" }.to_string(),
                r.services.to_string(),
                r.latency.clone().unwrap_or_else(|| "-".into()),
            ]
        }))
        .collect();
    let mut widths = [0usize; 4];
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
