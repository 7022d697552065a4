//! The destination learns linked clusters from the Links and reads each
//! Link's credentials Secret by name: no other Secret of the namespace
//! (the identity issuer's key lives there) is ever read, and credentials
//! refused as written are reported once as a Warning Event on the Link.

mod support;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::BoxStream;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Event as K8sEvent, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use parking_lot::Mutex;
use serde_json::json;
use strait_api::link::Link;
use strait_destination::ClusterConfig;
use strait_destination_server::{
    CREDENTIALS_REREAD, DELETED_LINK_GRACE, EVENT_COMPONENT, SharedClusters, connect_embedded,
    follow_remote_clusters,
};
use strait_store::{ClusterStore, Event, MemoryStore, StoreError, StoredObject, WatchParams};
use strait_store_kube::KubeStore;
use support::*;

/// A store that records every watch (by kind) and every read (kind,
/// namespace, name) made through it.
#[derive(Clone)]
struct Recording {
    inner: MemoryStore,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Recording {
    fn new(inner: MemoryStore) -> Self {
        Recording {
            inner,
            calls: Arc::default(),
        }
    }

    fn record(&self, call: String) {
        self.calls.lock().push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().clone()
    }
}

fn kind<K: StoredObject>() -> String {
    K::kind(&()).into_owned()
}

impl ClusterStore for Recording {
    fn watch<K: StoredObject>(
        &self,
        params: WatchParams,
    ) -> BoxStream<'static, Result<Event<K>, StoreError>> {
        self.record(format!(
            "watch {} in {}",
            kind::<K>(),
            params.namespace.as_deref().unwrap_or("*")
        ));
        self.inner.watch(params)
    }

    fn get<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<K>, StoreError>> + Send {
        self.record(format!("get {} {namespace}/{name}", kind::<K>()));
        self.inner.get(namespace, name)
    }

    fn apply<K: StoredObject>(
        &self,
        object: &K,
        field_manager: &str,
    ) -> impl Future<Output = Result<K, StoreError>> + Send {
        self.inner.apply(object, field_manager)
    }

    fn patch_status<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
        status: serde_json::Value,
    ) -> impl Future<Output = Result<K, StoreError>> + Send {
        self.inner.patch_status(namespace, name, status)
    }

    fn delete<K: StoredObject>(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.inner.delete::<K>(namespace, name)
    }
}

/// West with the namespaces of the tests.
fn west() -> MemoryStore {
    let west = MemoryStore::new();
    strait_test_support::store::namespaces(&west, &[NS, MC_NS, CP_NS]);
    west
}

/// A Secret shaped like the identity issuer's, beside the credentials; labelled
/// as credentials too, so that only the Links can tell it is none.
fn issuer_like() -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {
            "name": "linkerd-identity-issuer", "namespace": CP_NS,
            "labels": {"multicluster.linkerd.io/cluster-name": "east"}
        },
        "type": "mirror.linkerd.io/remote-kubeconfig",
        "data": {"tls.key": "c2VjcmV0", "kubeconfig": "YXBpVmVyc2lvbjogdjEK"}
    })
}

#[tokio::test]
async fn only_the_secrets_links_name_are_read_and_only_by_name() {
    let west = west();
    let east = MemoryStore::new();
    apply(&west, issuer_like());
    let recording = Recording::new(west.clone());
    let index = SharedClusters::new();
    let clusters = Arc::new(BTreeMap::from([("east".to_string(), east)]));
    let follower = tokio::spawn(follow_remote_clusters(
        recording.clone(),
        MC_NS.to_string(),
        ClusterConfig::default(),
        connect_embedded(clusters),
        index.clone(),
        REREAD,
    ));

    // A labelled Secret no Link names links nothing.
    tokio::time::sleep(REREAD * 3).await;
    assert!(index.read(|c| c.cluster("east").is_none()));

    apply(&west, credentials("east", "east.example"));
    apply(&west, link("east"));
    strait_test_support::eventually_within(PATIENCE, "east linked", async || {
        index.read(|c| c.cluster("east").is_some())
    })
    .await;
    // Several periodic reads later.
    tokio::time::sleep(REREAD * 3).await;
    follower.abort();

    let calls = recording.calls();
    let secrets: Vec<&String> = calls.iter().filter(|c| c.contains("Secret")).collect();
    assert!(
        secrets.len() > 2,
        "the Link's Secret is read again periodically: {calls:?}"
    );
    for call in &secrets {
        assert_eq!(
            call.as_str(),
            format!("get Secret {CP_NS}/cluster-credentials-east"),
            "{calls:?}"
        );
    }
    assert!(
        calls
            .iter()
            .all(|c| !c.starts_with("watch ") || c == &format!("watch Link in {MC_NS}")),
        "the follower watches the Links of its namespace only: {calls:?}"
    );
}

/// Two Links naming one cluster feed it once; the second takes over at
/// the next read once the first is deleted.
#[tokio::test]
async fn one_feed_per_cluster_whatever_the_links() {
    let west = west();
    let east = MemoryStore::new();
    apply(&west, credentials("east", "east.example"));
    apply(&west, link("east"));
    let mut again = link("east");
    again["metadata"]["name"] = json!("east-again");
    apply(&west, again);
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let reach = connect_embedded(Arc::new(BTreeMap::from([("east".to_string(), east)])));
    let connect = move |secret: Secret| {
        counted.fetch_add(1, Ordering::SeqCst);
        reach(secret)
    };
    let index = SharedClusters::new();
    let follower = tokio::spawn(follow_remote_clusters(
        west.clone(),
        MC_NS.to_string(),
        ClusterConfig::default(),
        connect,
        index.clone(),
        REREAD,
    ));
    strait_test_support::eventually_within(PATIENCE, "east linked", async || {
        index.read(|c| c.cluster("east").is_some())
    })
    .await;
    tokio::time::sleep(REREAD * 3).await;
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "one connection, one feed"
    );

    // Deleted for good: once the grace is over, the other Link links it.
    delete_link(&west, "east").await;
    let patience = DELETED_LINK_GRACE + PATIENCE;
    strait_test_support::eventually_within(patience, "east fed again", async || {
        attempts.load(Ordering::SeqCst) == 2 && index.read(|c| c.cluster("east").is_some())
    })
    .await;
    follower.abort();
}

/// East's credentials Secret in west with `kubeconfig` (the
/// destination's copy).
async fn kubeconfig_secret(west: &MemoryStore, kubeconfig: &str) {
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("cluster-credentials-east".into()),
            namespace: Some(CP_NS.into()),
            ..ObjectMeta::default()
        },
        type_: Some("mirror.linkerd.io/remote-kubeconfig".into()),
        data: Some(BTreeMap::from([(
            "kubeconfig".to_string(),
            ByteString(kubeconfig.as_bytes().to_vec()),
        )])),
        ..Secret::default()
    };
    west.apply(&secret, "test").await.expect("the secret");
}

async fn warnings(west: &MemoryStore) -> Vec<K8sEvent> {
    let mut events = west.watch::<K8sEvent>(WatchParams::all());
    match futures::StreamExt::next(&mut events).await {
        Some(Ok(Event::Reset(all))) => all,
        other => panic!("expected a listing, got {other:?}"),
    }
}

/// The attack: a Link Secret whose kubeconfig runs a command in the
/// destination's pod. Refused, naming the field, on every attempt; the
/// Link's owner hears it once, on the Link.
#[tokio::test(start_paused = true)]
async fn a_kubeconfig_that_runs_a_command_is_reported_once_on_the_link() {
    let west = west();
    kubeconfig_secret(&west, strait_test_support::objects::EXEC_KUBECONFIG).await;
    apply(&west, link("east"));
    let link: Link = west
        .get(MC_NS, "east")
        .await
        .expect("read")
        .expect("the link");
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let connect = move |secret: Secret| {
        counted.fetch_add(1, Ordering::SeqCst);
        let text = secret
            .data
            .as_ref()
            .and_then(|d| d.get("kubeconfig"))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .unwrap_or_default();
        std::future::ready(KubeStore::from_kubeconfig_yaml(&text))
    };
    let index = SharedClusters::new();
    let before = west.write_count();
    let follower = tokio::spawn(follow_remote_clusters(
        west.clone(),
        MC_NS.to_string(),
        ClusterConfig::default(),
        connect,
        index.clone(),
        CREDENTIALS_REREAD,
    ));
    // Retries with backoff, and the periodic reads, for two minutes.
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(
        attempts.load(Ordering::SeqCst) >= 5,
        "retried: {} attempts",
        attempts.load(Ordering::SeqCst)
    );
    assert!(index.read(|c| c.cluster("east").is_none()));

    let events = warnings(&west).await;
    let [event] = events.as_slice() else {
        panic!("exactly one event, got {events:#?}");
    };
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.reason.as_deref(), Some("InvalidCredentials"));
    assert_eq!(event.metadata.namespace.as_deref(), Some(MC_NS));
    let message = event.message.clone().unwrap_or_default();
    assert!(message.contains("users[0].user.exec"), "{message}");
    let about = &event.involved_object;
    assert_eq!(
        about.api_version.as_deref(),
        Some("multicluster.linkerd.io/v1alpha3")
    );
    assert_eq!(about.kind.as_deref(), Some("Link"));
    assert_eq!(about.name.as_deref(), Some("east"));
    assert_eq!(about.namespace.as_deref(), Some(MC_NS));
    assert!(link.metadata.uid.is_some());
    assert_eq!(about.uid, link.metadata.uid);
    assert_eq!(
        event.source.as_ref().and_then(|s| s.component.as_deref()),
        Some(EVENT_COMPONENT)
    );
    // One write for all those attempts: the Event, once.
    let writes = west.write_count();
    assert_eq!(writes, before + 1);

    // Another refused field is another message: the Event says it instead.
    let token_file = strait_test_support::objects::EXEC_KUBECONFIG.replace(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [\"-c\", \"cat /var/run/secrets/kubernetes.io/serviceaccount/token\"]\n",
        "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n",
    );
    assert_ne!(token_file, strait_test_support::objects::EXEC_KUBECONFIG);
    kubeconfig_secret(&west, &token_file).await;
    tokio::time::sleep(Duration::from_secs(120)).await;
    let events = warnings(&west).await;
    let [event] = events.as_slice() else {
        panic!("still one event, got {events:#?}");
    };
    let message = event.message.clone().unwrap_or_default();
    assert!(message.contains("users[0].user.tokenFile"), "{message}");
    // The Secret and the Event: nothing else was written meanwhile.
    assert_eq!(west.write_count(), writes + 2);
    follower.abort();
}
