//! A target cluster that cannot be reached: mirrors stay as they are, and the
//! mirror reconverges once the cluster is back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{Link, LinkSpec};
use strait_mirror::ServiceMirror;
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, WatchParams};
use strait_test_support::k8s::namespace;
use strait_test_support::plugins::{builtin_export, host};

/// A store whose API can be cut off: while down, every call and every new
/// watch fails as an unreachable API server would, and open watches end.
#[derive(Clone)]
struct Cuttable {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
}

fn unreachable() -> StoreError {
    StoreError::Unavailable {
        reason: "connection refused".into(),
    }
}

impl ClusterStore for Cuttable {
    fn watch<K: strait_store::StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        if self.down.load(Ordering::SeqCst) {
            return futures::stream::once(async { Err(unreachable()) }).boxed();
        }
        let down = self.down.clone();
        self.inner
            .watch(params)
            .take_while(move |_| {
                let up = !down.load(Ordering::SeqCst);
                async move { up }
            })
            .chain(futures::stream::once(async { Err(unreachable()) }))
            .boxed()
    }

    async fn get<K: strait_store::StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.inner.get(namespace, name).await
    }

    async fn apply<K: strait_store::StoredObject>(
        &self,
        object: &K,
        manager: &str,
    ) -> Result<K, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.inner.apply(object, manager).await
    }

    async fn patch_status<K: strait_store::StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: serde_json::Value,
    ) -> Result<K, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.inner.patch_status(namespace, name, status).await
    }

    async fn delete<K: strait_store::StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.inner.delete::<K>(namespace, name).await
    }
}

fn service(name: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("mc-demo".into()),
            labels: Some(BTreeMap::from([(
                labels::EXPORTED.to_string(),
                "remote-discovery".to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirrors_stay_while_the_target_is_unreachable_and_reconverge_after() {
    let east = Cuttable {
        inner: MemoryStore::new(),
        down: Arc::new(AtomicBool::new(false)),
    };
    let west = MemoryStore::new();
    east.inner
        .apply(&namespace("mc-demo"), "test")
        .await
        .unwrap();
    for ns in ["mc-demo", "linkerd"] {
        west.apply(&namespace(ns), "test").await.unwrap();
    }
    let mut link = Link::new(
        "target",
        LinkSpec {
            target_cluster_name: Some("target".into()),
            remote_discovery_selector: Some(labels::default_remote_discovery_selector()),
            ..Default::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    west.apply(&link, "test").await.unwrap();
    let plugin = builtin_export(&host());
    east.inner.apply(&service("bb"), "test").await.unwrap();
    east.inner.apply(&service("web"), "test").await.unwrap();
    let mirror = ServiceMirror::new(west.clone(), east.clone(), &link, plugin)
        .await
        .unwrap()
        .spawn();
    let mirrored = |name: &'static str| {
        let west = west.clone();
        async move {
            west.get::<Service>("mc-demo", name)
                .await
                .unwrap()
                .is_some()
        }
    };
    for _ in 0..250 {
        if mirrored("bb-target").await && mirrored("web-target").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(mirrored("bb-target").await && mirrored("web-target").await);

    // Cut the target off, and change it behind the mirror's back.
    east.down.store(true, Ordering::SeqCst);
    east.inner
        .delete::<Service>("mc-demo", "web")
        .await
        .unwrap();
    let writes = west.write_count();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        mirrored("bb-target").await && mirrored("web-target").await,
        "mirrors untouched while unreachable"
    );
    assert_eq!(
        west.write_count(),
        writes,
        "nothing written while the target is unreachable"
    );

    // Back: the mirror sees the target again and removes the stale mirror.
    east.down.store(false, Ordering::SeqCst);
    let mut converged = false;
    for _ in 0..250 {
        if !mirrored("web-target").await {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        converged,
        "the deleted remote Service's mirror goes once the target is back"
    );
    assert!(mirrored("bb-target").await);
    mirror.stop().await;
}
