//! A cluster's whole control plane over an embedded store, as `strait
//! local` runs one: the peer of the proxies and workloads under test.

use std::collections::BTreeMap;
use std::sync::Arc;

use strait_control_plane::{ControlPlane, RunningControlPlane};
use strait_destination::ClusterConfig;
use strait_destination_server::connect_embedded;
use strait_identity::{EmbeddedTokens, SigningCa};
use strait_mesh::names::LINK_NAMESPACE;
use strait_plugin_distribution::PluginOffer;
use strait_policy::IndexConfig;
use strait_store::MemoryStore;

use crate::identity::certifier;
use crate::net::any_port;

/// Cluster `cluster`'s control plane over `store`, on a free loopback
/// port: identity with an issuer `identity.<cluster>` under `root` for the
/// callers whose tokens `tokens` holds, policy (with the authz plugins
/// `plugins` offers), and destination, which reaches no other cluster.
pub async fn control_plane(
    cluster: &str,
    store: &MemoryStore,
    root: &SigningCa,
    tokens: EmbeddedTokens,
    plugins: &PluginOffer,
) -> RunningControlPlane {
    let clusters = Arc::new(BTreeMap::from([(cluster.to_string(), store.clone())]));
    let served = ControlPlane::new()
        .with_identity(certifier(root, &format!("identity.{cluster}")), tokens)
        .with_policy(store.clone(), IndexConfig::default(), plugins)
        .with_destination(
            store.clone(),
            cluster,
            ClusterConfig::default(),
            LINK_NAMESPACE,
            connect_embedded(clusters),
        )
        .serve(any_port())
        .await;
    match served {
        Ok(running) => running,
        Err(e) => panic!("the control plane of {cluster} does not serve: {e}"),
    }
}

#[cfg(test)]
mod tests;
