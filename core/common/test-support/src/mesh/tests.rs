use super::*;
use crate::identity::trust_root;
use crate::store::namespaces;
use strait_mesh::names::CONTROL_PLANE_NAMESPACE;

#[tokio::test]
async fn every_service_is_served_on_one_loopback_address() {
    let store = MemoryStore::new();
    namespaces(&store, &[CONTROL_PLANE_NAMESPACE]);
    let running = control_plane(
        "east",
        &store,
        &trust_root(),
        EmbeddedTokens::new(),
        &PluginOffer::new(),
    )
    .await;
    assert!(running.local_addr().ip().is_loopback());
    assert_eq!(running.services(), ["identity", "policy", "destination"]);
    crate::grpc::channel(running.local_addr()).await;
}
