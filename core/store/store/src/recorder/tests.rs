use k8s_openapi::api::core::v1::{ConfigMap, Event as K8sEvent, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;
use crate::{Event, MemoryStore, WatchParams};

fn object(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("linkerd".into()),
            uid: Some(format!("uid-{name}")),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

async fn store() -> MemoryStore {
    let store = MemoryStore::new();
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("linkerd".into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    store.apply(&ns, "test").await.expect("namespace");
    store
}

async fn events(store: &MemoryStore) -> Vec<K8sEvent> {
    let mut watch = store.watch::<K8sEvent>(WatchParams::all());
    match futures::StreamExt::next(&mut watch).await {
        Some(Ok(Event::Reset(all))) => all,
        other => panic!("expected a Reset, got {other:?}"),
    }
}

#[tokio::test]
async fn a_warning_names_the_object_and_the_writer() {
    let store = store().await;
    let mut recorder = EventRecorder::new("strait-test");
    assert!(
        recorder
            .warn(&store, &object("east"), "InvalidCredentials", "it is wrong")
            .await
    );
    let [event] = events(&store).await.try_into().expect("one event");
    assert_eq!(
        event.metadata.name.as_deref(),
        Some("east.invalid-credentials.strait-test")
    );
    assert_eq!(event.metadata.namespace.as_deref(), Some("linkerd"));
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.reason.as_deref(), Some("InvalidCredentials"));
    assert_eq!(event.message.as_deref(), Some("it is wrong"));
    let about = &event.involved_object;
    assert_eq!(about.api_version.as_deref(), Some("v1"));
    assert_eq!(about.kind.as_deref(), Some("ConfigMap"));
    assert_eq!(about.name.as_deref(), Some("east"));
    assert_eq!(about.namespace.as_deref(), Some("linkerd"));
    assert_eq!(about.uid.as_deref(), Some("uid-east"));
    assert_eq!(
        event.source.and_then(|s| s.component).as_deref(),
        Some("strait-test")
    );
}

#[tokio::test]
async fn the_same_message_is_written_once_until_it_changes_or_is_forgotten() {
    let store = store().await;
    let mut recorder = EventRecorder::new("strait-test");
    let east = object("east");
    let writes = store.write_count();
    for _ in 0..5 {
        recorder.warn(&store, &east, "Refused", "one").await;
    }
    assert_eq!(store.write_count(), writes + 1, "written once");
    assert!(recorder.warn(&store, &east, "Refused", "two").await);
    assert!(!recorder.warn(&store, &east, "Refused", "two").await);
    assert_eq!(store.write_count(), writes + 2);
    // Another reason, or another object, is another fault.
    assert!(recorder.warn(&store, &east, "Other", "two").await);
    assert!(
        recorder
            .warn(&store, &object("west"), "Refused", "two")
            .await
    );
    // Fixed, then broken again: reported again.
    recorder.forget(&east, "Refused");
    assert!(recorder.warn(&store, &east, "Refused", "two").await);
    recorder.forget_object(&east);
    assert!(recorder.warn(&store, &east, "Other", "two").await);
    assert!(
        !recorder
            .warn(&store, &object("west"), "Refused", "two")
            .await
    );
    // One Event per object, reason and writer: a new message replaced it.
    assert_eq!(events(&store).await.len(), 3);
}

#[tokio::test]
async fn what_is_remembered_is_bounded() {
    let store = store().await;
    let mut recorder = EventRecorder::new("strait-test");
    for i in 0..MAX_REPORTED + 10 {
        recorder
            .warn(&store, &object(&format!("o{i}")), "Refused", "m")
            .await;
    }
    assert_eq!(recorder.reported.len(), MAX_REPORTED);
}

#[test]
fn event_names_stay_within_the_api_servers_limit() {
    let long = "a".repeat(300);
    let event = warning(&object(&long), "InvalidLink", "m", "strait-service-mirror");
    let name = event.metadata.name.unwrap_or_default();
    assert_eq!(name.len(), MAX_NAME);
    assert!(
        name.ends_with(".invalid-link.strait-service-mirror"),
        "{name}"
    );
    assert_eq!(event.involved_object.name, Some(long));
}
