//! `strait controller destination`: Linkerd's Destination service for
//! Kubernetes, across linked clusters.

use std::net::SocketAddr;

use clap::Args;
use strait_destination::ClusterConfig;
use strait_mesh::names::{DEFAULT_CLUSTER_DOMAIN, DESTINATION, LINK_NAMESPACE};
use strait_runtime::controller::{self, Destination, Serving};
use strait_runtime::credentials::store_from_credentials;

use super::serving::{CertifiedTls, MeshNames, check_plaintext};

/// Flags of `strait controller destination`.
#[derive(Args, Clone, Debug)]
pub struct DestinationArgs {
    /// Where proxies reach `Destination`.
    #[arg(long, default_value_t = DESTINATION.listen_addr())]
    pub addr: SocketAddr,
    /// Where /metrics, /ready and /live are served.
    #[arg(long, default_value_t = DESTINATION.admin_listen_addr())]
    pub admin_addr: SocketAddr,
    /// The cluster's DNS domain: the suffix of fully qualified Service names.
    #[arg(long, default_value = DEFAULT_CLUSTER_DOMAIN)]
    pub cluster_domain: String,
    /// The name this cluster's Services are indexed under; only visible in
    /// logs, since linked clusters are named by their Links.
    #[arg(long, default_value = "local")]
    pub cluster_name: String,
    /// Where the Links to follow are (`multicluster link-gen` writes them
    /// there); each one's credentials Secret is read, by name, in the
    /// controller namespace.
    #[arg(long, default_value = LINK_NAMESPACE)]
    pub links_namespace: String,
    #[command(flatten)]
    pub names: MeshNames,
    #[command(flatten)]
    pub tls: CertifiedTls,
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
    check_plaintext(args.tls.plaintext, args.addr)?;
    let store = super::kube_store().await?;
    let destination = Destination {
        cluster: args.cluster_name.clone(),
        config: cluster_config(&args),
        links_namespace: args.links_namespace.clone(),
    };
    let serving = Serving {
        addr: args.addr,
        admin_addr: args.admin_addr,
        tls: args.tls.controller_tls(&DESTINATION, &args.names),
    };
    controller::destination(
        store,
        destination,
        store_from_credentials,
        serving,
        crate::signal::terminated(),
    )
    .await
    .map_err(|e| e.to_string())
}
