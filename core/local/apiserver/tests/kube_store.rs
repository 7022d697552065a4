//! strait's Kubernetes backend (kube-rs: watchers, server-side apply,
//! status patches) against a local cluster's API server over real TLS:
//! the path controllers take on a cluster, met here by a real server
//! rather than a scripted one.

#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::link::Link;
use strait_store::{ClusterStore, Event, StoreError, WatchParams};
use strait_store_kube::KubeStore;

const WAIT: Duration = Duration::from_secs(10);

fn service(name: &str, exported: Option<&str>) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("mc-demo".into()),
            labels: exported.map(|v| {
                BTreeMap::from([("mirror.linkerd.io/exported".to_string(), v.to_string())])
            }),
            ..ObjectMeta::default()
        },
        ..Service::default()
    }
}

fn namespace(name: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

async fn next<K>(
    events: &mut futures::stream::BoxStream<'static, Result<Event<K>, StoreError>>,
) -> Event<K> {
    loop {
        match tokio::time::timeout(WAIT, events.next()).await {
            Ok(Some(Ok(event))) => return event,
            Ok(Some(Err(error))) => eprintln!("watch error (retried): {error}"),
            Ok(None) => panic!("the watch ended"),
            Err(_) => panic!("no event within {WAIT:?}"),
        }
    }
}

fn names(services: &[Service]) -> Vec<String> {
    services
        .iter()
        .map(|s| s.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_selected_watch_sees_services_enter_and_leave_its_selection() {
    let api = support::start("watch").await;
    let local = api.store.clone();
    local.apply(&namespace("mc-demo"), "test").await.unwrap();
    local
        .apply(&service("before", Some("true")), "test")
        .await
        .unwrap();
    local.apply(&service("other", None), "test").await.unwrap();
    let kube = KubeStore::from_kubeconfig_yaml(&api.kubeconfig).unwrap();
    let mut events =
        kube.watch::<Service>(WatchParams::labelled("mirror.linkerd.io/exported", "true"));
    match next(&mut events).await {
        Event::Reset(all) => assert_eq!(names(&all), ["before"]),
        other => panic!("expected the listing first, got {other:?}"),
    }
    local
        .apply(&service("bb", Some("true")), "test")
        .await
        .unwrap();
    match next(&mut events).await {
        Event::Apply(s) => assert_eq!(s.metadata.name.as_deref(), Some("bb")),
        other => panic!("expected bb applied, got {other:?}"),
    }
    local
        .apply(&service("bb", Some("false")), "test")
        .await
        .unwrap();
    match next(&mut events).await {
        Event::Delete(s) => assert_eq!(s.metadata.name.as_deref(), Some("bb")),
        other => panic!("expected bb to leave the selection, got {other:?}"),
    }
    local.delete::<Service>("mc-demo", "before").await.unwrap();
    match next(&mut events).await {
        Event::Delete(s) => assert_eq!(s.metadata.name.as_deref(), Some("before")),
        other => panic!("expected before deleted, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_status_and_delete_reach_the_store() {
    let api = support::start("writes").await;
    let kube = KubeStore::from_kubeconfig_yaml(&api.kubeconfig).unwrap();
    match kube.apply(&service("bb", None), "strait-mirror").await {
        Err(StoreError::NotFound { what }) => assert_eq!(what, "namespaces \"mc-demo\""),
        other => panic!("a missing namespace must be named, got {other:?}"),
    }
    kube.apply(&namespace("mc-demo"), "strait-mirror")
        .await
        .unwrap();
    let mut config = ConfigMap {
        metadata: ObjectMeta {
            name: Some("cfg".into()),
            namespace: Some("mc-demo".into()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
        ])),
        ..ConfigMap::default()
    };
    kube.apply(&config, "strait-mirror").await.unwrap();
    config.data = Some(BTreeMap::from([("a".into(), "1".into())]));
    let applied = kube.apply(&config, "strait-mirror").await.unwrap();
    assert_eq!(
        applied.data, config.data,
        "a field the manager stopped applying is removed"
    );
    let stored: ConfigMap = api.store.get("mc-demo", "cfg").await.unwrap().unwrap();
    assert_eq!(stored.data, config.data);

    let link: Link = serde_json::from_value(serde_json::json!({
        "apiVersion": "multicluster.linkerd.io/v1alpha3", "kind": "Link",
        "metadata": {"name": "east", "namespace": "mc-demo"},
        "spec": {"targetClusterName": "east"},
    }))
    .unwrap();
    kube.apply(&link, "strait-mirror").await.unwrap();
    let status = serde_json::json!({"mirrorServices": [{"controllerName": "x", "remoteRef": {"name": "bb", "namespace": "mc-demo"}}]});
    kube.patch_status::<Link>("mc-demo", "east", status.clone())
        .await
        .unwrap();
    let stored: Link = api.store.get("mc-demo", "east").await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&stored).unwrap()["status"]["mirrorServices"][0]["remoteRef"]["name"],
        "bb"
    );
    assert_eq!(
        stored.spec.target_cluster_name.as_deref(),
        Some("east"),
        "status left the spec alone"
    );

    kube.delete::<ConfigMap>("mc-demo", "cfg").await.unwrap();
    assert!(
        kube.get::<ConfigMap>("mc-demo", "cfg")
            .await
            .unwrap()
            .is_none()
    );
    match kube.delete::<ConfigMap>("mc-demo", "cfg").await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("deleting what is gone is NotFound, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_resumes_with_the_current_state_after_an_outage() {
    let api = support::start("outage").await;
    let local = api.store.clone();
    local.apply(&namespace("mc-demo"), "test").await.unwrap();
    let kube = KubeStore::from_kubeconfig_yaml(&api.kubeconfig).unwrap();
    let mut events = kube.watch::<Service>(WatchParams::all());
    assert!(matches!(next(&mut events).await, Event::Reset(all) if all.is_empty()));
    api.reachability.cut();
    local.apply(&service("during", None), "test").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    api.reachability.restore();
    // Whatever the watcher says first after the outage, it ends up
    // knowing the Service written while the API was down.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("the watch recovers within 30 s")
            .expect("the watch never ends");
        match event {
            Ok(Event::Reset(all)) if names(&all) == ["during"] => break,
            Ok(Event::Apply(s)) if s.metadata.name.as_deref() == Some("during") => break,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_the_token_gets_nothing() {
    let api = support::start("token").await;
    api.store
        .apply(&namespace("secret-ns"), "test")
        .await
        .unwrap();
    let forged = api.kubeconfig.replace(support::TOKEN, "guessed-token");
    let kube = KubeStore::from_kubeconfig_yaml(&forged).unwrap();
    match kube.get::<Namespace>("", "secret-ns").await {
        Err(StoreError::Unavailable { reason }) => assert!(reason.contains("401"), "{reason}"),
        other => panic!("a wrong token must be refused, got {other:?}"),
    }
}

/// A kind the API server does not serve (an optional CRD, such as the
/// Gateway API's, not installed): the watch reports it empty instead of
/// failing over and over, so a controller following several kinds does
/// not wait for this one forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_the_server_does_not_serve_is_empty_not_an_outage() {
    use k8s_openapi::api::networking::v1::Ingress;
    let api = support::start("absent-kind").await;
    let kube = KubeStore::from_kubeconfig_yaml(&api.kubeconfig).unwrap();
    let mut events = kube.watch::<Ingress>(WatchParams::all());
    match tokio::time::timeout(WAIT, events.next()).await {
        Ok(Some(Ok(Event::Reset(all)))) => assert!(all.is_empty()),
        other => panic!("expected an empty listing, got {other:?}"),
    }
    // Listed again in the background, quietly: no error reaches the consumer.
    let quiet = tokio::time::timeout(Duration::from_secs(3), events.next()).await;
    assert!(quiet.is_err(), "expected nothing more, got {quiet:?}");
}
