//! A Link whose credentials are refused as written: the service mirror
//! retries, and tells the Link's owner once, on the Link, naming the field.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Event as K8sEvent, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::link::{Link, LinkSpec};
use strait_store::{ClusterStore, Event, MemoryStore, WatchParams, link_credentials};
use strait_store_kube::KubeStore;
use strait_test_support::k8s::namespace;
use strait_test_support::plugins::{builtin_export, host};

async fn west() -> MemoryStore {
    let west = MemoryStore::new();
    west.apply(&namespace("linkerd"), "test").await.unwrap();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("cluster-credentials-target".into()),
            namespace: Some("linkerd".into()),
            ..ObjectMeta::default()
        },
        type_: Some("mirror.linkerd.io/remote-kubeconfig".into()),
        data: Some(BTreeMap::from([(
            "kubeconfig".to_string(),
            ByteString(
                strait_test_support::objects::EXEC_KUBECONFIG
                    .as_bytes()
                    .to_vec(),
            ),
        )])),
        ..Secret::default()
    };
    west.apply(&secret, "test").await.unwrap();
    let mut link = Link::new(
        "target",
        LinkSpec {
            target_cluster_name: Some("target".into()),
            cluster_credentials_secret: Some("cluster-credentials-target".into()),
            ..LinkSpec::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    west.apply(&link, "test").await.unwrap();
    west
}

/// The attack: a Link Secret whose kubeconfig runs a command in the
/// mirror's pod. Refused on every attempt, reported once.
#[tokio::test(start_paused = true)]
async fn a_kubeconfig_that_runs_a_command_is_reported_once_on_the_link() {
    let west = west().await;
    let link: Link = west.get("linkerd", "target").await.unwrap().unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let local = west.clone();
    // The Link's Secret read by name, its kubeconfig loaded as on
    // Kubernetes.
    let connect = move |link: Link| {
        let (local, counted) = (local.clone(), counted.clone());
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            let secret = link_credentials(&local, &link).await?;
            let text = secret
                .data
                .as_ref()
                .and_then(|d| d.get("kubeconfig"))
                .map(|b| String::from_utf8_lossy(&b.0).into_owned())
                .unwrap_or_default();
            KubeStore::from_kubeconfig_yaml(&text)
        }
    };
    let before = west.write_count();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let supervisor = tokio::spawn(strait_mirror::supervise_link(
        west.clone(),
        "linkerd".to_string(),
        "target".to_string(),
        connect,
        builtin_export(&host()),
        strait_mirror::MirrorMetrics::default(),
        stopped,
    ));
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(
        attempts.load(Ordering::SeqCst) >= 5,
        "retried: {} attempts",
        attempts.load(Ordering::SeqCst)
    );

    let mut events = west.watch::<K8sEvent>(WatchParams::all());
    let events = match futures::StreamExt::next(&mut events).await {
        Some(Ok(Event::Reset(all))) => all,
        other => panic!("expected a listing, got {other:?}"),
    };
    let [event] = events.as_slice() else {
        panic!("exactly one event, got {events:#?}");
    };
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.reason.as_deref(), Some("InvalidCredentials"));
    assert_eq!(event.metadata.namespace.as_deref(), Some("linkerd"));
    let message = event.message.clone().unwrap_or_default();
    assert!(message.contains("users[0].user.exec"), "{message}");
    let about = &event.involved_object;
    assert_eq!(
        about.api_version.as_deref(),
        Some("multicluster.linkerd.io/v1alpha3")
    );
    assert_eq!(about.kind.as_deref(), Some("Link"));
    assert_eq!(about.name.as_deref(), Some("target"));
    assert_eq!(about.namespace.as_deref(), Some("linkerd"));
    assert!(link.metadata.uid.is_some());
    assert_eq!(about.uid, link.metadata.uid);
    assert_eq!(
        event.source.as_ref().and_then(|s| s.component.as_deref()),
        Some(strait_mirror::EVENT_COMPONENT)
    );
    // Every attempt but one wrote nothing.
    assert_eq!(west.write_count(), before + 1);

    let _ = stop.send(true);
    supervisor.await.unwrap();
}
