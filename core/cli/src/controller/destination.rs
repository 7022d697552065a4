//! `strait controller destination`: Linkerd's Destination service for
//! Kubernetes, across linked clusters.

use std::net::SocketAddr;

use clap::Args;
use k8s_openapi::api::core::v1::Secret;
use prometheus_client::registry::Registry;
use strait_control_plane::ControlPlane;
use strait_destination::ClusterConfig;
use strait_store_kube::KubeStore;

use super::serving::{MeshNames, serve_until_signal};
use super::store_from_credentials;

/// Flags of `strait controller destination`.
#[derive(Args, Clone, Debug)]
pub struct DestinationArgs {
    /// Where proxies reach `Destination`.
    #[arg(long, default_value = "0.0.0.0:8086")]
    pub addr: SocketAddr,
    /// Where /metrics, /ready and /live are served.
    #[arg(long, default_value = "0.0.0.0:9996")]
    pub admin_addr: SocketAddr,
    /// The cluster's DNS domain: the suffix of fully qualified Service names.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// The name this cluster's Services are indexed under; only visible in
    /// logs, since linked clusters are named by their credentials Secrets.
    #[arg(long, default_value = "local")]
    pub cluster_name: String,
    #[command(flatten)]
    pub names: MeshNames,
}

/// How this cluster spells names and identities, from the flags.
pub fn cluster_config(args: &DestinationArgs) -> ClusterConfig {
    ClusterConfig {
        cluster_domain: args.cluster_domain.clone(),
        control_plane_namespace: args.names.controller_namespace.clone(),
        trust_domain: args.names.identity_trust_domain.clone(),
    }
}

pub async fn run(args: DestinationArgs) -> Result<(), String> {
    let store = KubeStore::infer()
        .await
        .map_err(|e| format!("cannot reach Kubernetes (in-cluster or kubeconfig): {e}"))?;
    let control_plane = ControlPlane::new().with_destination(
        store,
        &args.cluster_name,
        cluster_config(&args),
        &args.names.controller_namespace,
        |secret: Secret| std::future::ready(store_from_credentials(&secret)),
    );
    serve_until_signal(
        control_plane,
        args.addr,
        args.admin_addr,
        Registry::default(),
    )
    .await
}
