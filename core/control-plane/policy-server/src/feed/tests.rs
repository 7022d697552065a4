use std::sync::Arc;

use parking_lot::Mutex;
use strait_policy::{Ignored, Index};
use tokio::sync::watch;

use super::{IGNORED_REASON, feed, newly_ignored};

fn ignored(name: &str, reason: &str) -> Ignored {
    Ignored {
        kind: "MeshTLSAuthentication",
        api_version: "policy.linkerd.io/v1alpha1",
        namespace: "mc-demo".into(),
        name: name.into(),
        reason: reason.into(),
    }
}

#[test]
fn only_resources_not_reported_before_are_new() {
    let nobody = ignored("nobody", "no identities");
    let other = ignored("other", "no identities");
    assert_eq!(
        newly_ignored(&[], std::slice::from_ref(&nobody)),
        vec![&nobody]
    );
    let current = vec![nobody.clone(), other.clone()];
    assert_eq!(
        newly_ignored(std::slice::from_ref(&nobody), &current),
        vec![&other]
    );
    assert!(newly_ignored(&current, &current).is_empty());
}

#[test]
fn a_new_reason_for_the_same_resource_is_reported_again() {
    let before = ignored("nobody", "no identities");
    let after = ignored("nobody", "an identity is malformed");
    assert_eq!(
        newly_ignored(&[before], std::slice::from_ref(&after)),
        vec![&after]
    );
}

#[test]
fn a_resource_fixed_and_broken_again_is_reported_again() {
    let nobody = ignored("nobody", "no identities");
    // Fixed: the current set is empty, which becomes the reported set.
    assert!(newly_ignored(std::slice::from_ref(&nobody), &[]).is_empty());
    assert_eq!(
        newly_ignored(&[], std::slice::from_ref(&nobody)),
        vec![&nobody]
    );
}

/// A store with the guide's bb pod, as the feed reads it.
async fn store_with_bb() -> strait_store::MemoryStore {
    let store = strait_store::MemoryStore::new();
    for object in [
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mc-demo"}}),
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bb-1", "namespace": "mc-demo", "labels": {"app": "bb"}},
            "spec": {"containers": [{"name": "bb", "ports": [{"name": "http", "containerPort": 8080}]}]}
        }),
    ] {
        store.apply_json(object, "test").unwrap();
    }
    store
}

#[tokio::test]
async fn a_resource_pointing_at_nothing_gets_a_warning_event_naming_what_is_wrong() {
    use k8s_openapi::api::core::v1::Event as K8sEvent;
    use strait_store::ClusterStore;

    let store = store_with_bb().await;
    let index = Arc::new(Mutex::new(Index::default()));
    let (changes, _) = watch::channel(0);
    let feeding = tokio::spawn(feed(store.clone(), index, changes));
    store
        .apply_json(
            serde_json::json!({
                "apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
                "metadata": {"name": "no-such-port", "namespace": "mc-demo"},
                "spec": {"podSelector": {"matchLabels": {"app": "bb"}}, "port": "no-such-port"}
            }),
            "kubectl",
        )
        .unwrap();
    let mut found = None;
    for _ in 0..200 {
        found = store
            .get::<K8sEvent>("mc-demo", "no-such-port.server.ignored")
            .await
            .unwrap();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    feeding.abort();
    let event = found.expect("no Event about the Server");
    assert_eq!(event.reason.as_deref(), Some(IGNORED_REASON));
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.involved_object.kind.as_deref(), Some("Server"));
    assert_eq!(
        event.involved_object.api_version.as_deref(),
        Some("policy.linkerd.io/v1beta3")
    );
    assert_eq!(
        event.message.as_deref(),
        Some(
            "Server mc-demo/no-such-port is ignored: spec.port \"no-such-port\" names no \
             container port of the pods it selects (e.g. bb-1), so it applies to no port"
        )
    );
}

/// The Event about ignored resource `name` in mc-demo, waited for.
async fn ignored_event(
    store: &strait_store::MemoryStore,
    name: &str,
) -> Option<k8s_openapi::api::core::v1::Event> {
    use strait_store::ClusterStore;
    for _ in 0..200 {
        let found = store.get("mc-demo", name).await.ok().flatten();
        if found.is_some() {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test]
async fn a_gateway_route_on_a_missing_server_gets_an_event_under_its_own_api_version() {
    let store = store_with_bb().await;
    let index = Arc::new(Mutex::new(Index::default()));
    let (changes, _) = watch::channel(0);
    let feeding = tokio::spawn(feed(store.clone(), index, changes));
    store
        .apply_json(
            serde_json::json!({
                "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                "metadata": {"name": "orphan", "namespace": "mc-demo"},
                "spec": {"parentRefs": [
                    {"group": "policy.linkerd.io", "kind": "Server", "name": "no-such-server"}
                ]}
            }),
            "kubectl",
        )
        .unwrap();
    let found = ignored_event(&store, "orphan.httproute.ignored").await;
    feeding.abort();
    let event = found.expect("no Event about the HTTPRoute");
    assert_eq!(event.involved_object.kind.as_deref(), Some("HTTPRoute"));
    assert_eq!(
        event.involved_object.api_version.as_deref(),
        Some("gateway.networking.k8s.io/v1")
    );
    assert_eq!(
        event.message.as_deref(),
        Some(
            "HTTPRoute mc-demo/orphan is ignored: spec.parentRefs[0]: Server \
             mc-demo/no-such-server does not exist, so the route applies to no port there"
        )
    );
}
