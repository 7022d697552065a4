use k8s_openapi::api::core::v1::{Pod, Service};

use super::*;
use crate::objects::{pod, server, service};

fn stored(store: &MemoryStore, kind: &str) -> Vec<String> {
    store
        .objects()
        .into_iter()
        .filter(|(k, _)| k.kind == kind)
        .map(|(_, o)| {
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn objects_are_applied_in_their_namespaces_and_deleted() {
    let store = MemoryStore::new();
    namespaces(&store, &["mc-demo"]);
    apply(&store, service("mc-demo", "bb").port("http", 8080, 8080));
    apply_all(&store, [server("mc-demo", "bb", "bb", 8080)]);
    assert_eq!(stored(&store, "Service"), ["bb"]);
    assert_eq!(stored(&store, "Server"), ["bb"]);

    delete::<Service>(&store, "mc-demo", "bb").await;
    delete_named(&store, "Server", "mc-demo", "bb");
    assert!(stored(&store, "Service").is_empty());
    assert!(stored(&store, "Server").is_empty());
}

#[test]
#[should_panic(expected = "applying \"Service\" \"bb\" failed")]
fn an_object_the_store_refuses_fails_naming_it() {
    // No namespace mc-demo: the store refuses, as the API server would.
    apply(&MemoryStore::new(), service("mc-demo", "bb"));
}

#[tokio::test]
#[should_panic(expected = "deleting mc-demo/bb failed")]
async fn deleting_what_is_not_there_fails() {
    delete::<Service>(&MemoryStore::new(), "mc-demo", "bb").await;
}

#[tokio::test]
async fn a_status_is_written_after_the_object() {
    let store = MemoryStore::new();
    namespaces(&store, &["mc-demo"]);
    apply_with_status::<Pod>(&store, pod("mc-demo", "bb-1").ip("10.244.1.5")).await;
    let stored: Pod = ClusterStore::get(&store, "mc-demo", "bb-1")
        .await
        .expect("read")
        .expect("stored");
    let status = stored.status.expect("a status");
    assert_eq!(status.pod_ip.as_deref(), Some("10.244.1.5"));
}
