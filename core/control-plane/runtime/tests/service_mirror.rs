//! The service mirror of one Link as its controller runs it, between
//! embedded clusters: the whole controller (admin endpoint, export plugins
//! from the plugins ConfigMap, the Lease released on shutdown), and two
//! replicas of which only the Lease holder mirrors.

mod support;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use prometheus_client::registry::Registry;
use strait_default_plugins::fixtures::with_custom_section;
use strait_mirror::MirrorMetrics;
use strait_mirror::leader::LeaseConfig;
use strait_plugin_config::{
    EXPORT_PLUGIN_KEY, PLUGINS_STATUS_CONFIG_MAP, plugins_config_map, read_status,
};
use strait_plugin_host::{HostConfig, PluginHost, PluginMetrics};
use strait_runtime::credentials::connect_link;
use strait_runtime::mirror::{LinkMirror, MirrorController, service_mirror};
use strait_runtime::plugins::{PluginsConfigMap, builtin_export, export_slot};
use strait_store::{ClusterStore, MemoryStore, StoreError};
use strait_test_support::poll::eventually_within;
use support::{eventually, exported, free_addr, get, link, meta, mirrored, namespace};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// West (with the Link and its credentials) and east (exporting bb).
async fn clusters() -> (MemoryStore, MemoryStore) {
    let east = MemoryStore::new();
    let west = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    for store in [&east, &west] {
        store.apply(&namespace("mc-demo"), "test").await.unwrap();
    }
    west.apply(&namespace("linkerd"), "test").await.unwrap();
    let credentials = Secret {
        metadata: meta(Some("linkerd"), "cluster-credentials-east"),
        type_: Some("mirror.linkerd.io/remote-kubeconfig".into()),
        ..Default::default()
    };
    west.apply(&credentials, "test").await.unwrap();
    west.apply(&link(), "test").await.unwrap();
    east.apply(&exported("bb"), "kubectl").await.unwrap();
    (west, east)
}

/// How west reaches east here: by the credentials Secret's name.
fn reach(
    east: &MemoryStore,
) -> impl Fn(&Secret) -> Result<MemoryStore, StoreError> + Clone + Send + Sync + use<> {
    let east = east.clone();
    move |secret: &Secret| match secret.metadata.name.as_deref() {
        Some("cluster-credentials-east") => Ok(east.clone()),
        other => Err(StoreError::NotFound {
            what: format!("cluster of secret {other:?}"),
        }),
    }
}

async fn lease_holder(west: &MemoryStore) -> Option<String> {
    west.get::<Lease>("linkerd", "service-mirror-write-target")
        .await
        .ok()
        .flatten()
        .and_then(|lease| lease.spec?.holder_identity)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_mirrors_serves_its_metrics_and_releases_its_lease() {
    let (west, east) = clusters().await;
    let admin_addr = free_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let controller = tokio::spawn(service_mirror(
        west.clone(),
        reach(&east),
        MirrorController {
            namespace: "linkerd".into(),
            link: "target".into(),
            holder_identity: "controller-target-a".into(),
            admin_addr,
            plugins: PluginsConfigMap::new("linkerd", "strait-plugins"),
        },
        async {
            let _ = stopped.await;
        },
    ));
    eventually("bb mirrored", || mirrored(&west, "bb")).await;
    assert_eq!(
        lease_holder(&west).await.as_deref(),
        Some("controller-target-a")
    );
    eventually("the admin endpoint says it leads", || async {
        get(admin_addr, "/metrics")
            .await
            .is_some_and(|text| text.contains("service_mirror_leader{link=\"target\"} 1"))
    })
    .await;
    let ready = get(admin_addr, "/ready").await.expect("answers");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

    // A new export plugin pushed to the ConfigMap is taken.
    let plugin = with_custom_section(strait_default_plugins::EXPORT_DEFAULT, "v", b"2");
    west.apply(
        &plugins_config_map(
            "strait-plugins",
            "linkerd",
            &[(EXPORT_PLUGIN_KEY, &plugin)],
            Some("2.0.0"),
        ),
        "test",
    )
    .await
    .unwrap();
    eventually("the export plugin taken", || async {
        west.get::<ConfigMap>("linkerd", PLUGINS_STATUS_CONFIG_MAP)
            .await
            .ok()
            .flatten()
            .is_some_and(|cm| {
                read_status(&cm, EXPORT_PLUGIN_KEY)
                    .is_some_and(|status| status.starts_with("active 2.0.0"))
            })
    })
    .await;

    // Stopped as a pod is: the Lease is released for the next replica, and
    // the admin endpoint goes with the controller.
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), controller)
        .await
        .expect("the controller stops")
        .expect("the task ends")
        .expect("cleanly");
    assert_eq!(lease_holder(&west).await.as_deref(), Some(""));
    eventually("the admin endpoint closed", || async {
        get(admin_addr, "/live").await.is_none()
    })
    .await;
}

/// How long a replica's Lease lasts: long enough that a standby leading
/// well within it ([`HANDOVER`]) can only have found it released.
const LEASE: Duration = Duration::from_secs(60);

/// How long a standby may take to lead once the leader released the
/// Lease: a third of [`LEASE`].
const HANDOVER: Duration = Duration::from_secs(20);

/// One replica of `controller-target`, elected with real durations: a
/// long lease, and short retries so that a released Lease is taken at
/// once.
struct Replica {
    metrics: MirrorMetrics,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

fn replica(west: &MemoryStore, east: &MemoryStore, name: &str) -> Replica {
    let lease = LeaseConfig {
        lease_duration: LEASE,
        renew_deadline: LEASE / 2,
        retry_period: Duration::from_millis(200),
        ..LeaseConfig::for_link("linkerd", "target", name)
    };
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("host");
    let plugin = export_slot(&host, &builtin_export().read().expect("read")).expect("loads");
    let metrics = MirrorMetrics::default();
    let mirror = LinkMirror::new(
        west.clone(),
        "linkerd",
        "target",
        connect_link(west.clone(), reach(east)),
        Arc::clone(&plugin),
        metrics.clone(),
    );
    let (shutdown, stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        mirror
            .run_elected(lease, stopped)
            .await
            .expect("a usable lease");
    });
    Replica {
        metrics,
        shutdown,
        task,
    }
}

fn exposition(metrics: &MirrorMetrics) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
    text
}

fn leads(replica: &Replica) -> bool {
    exposition(&replica.metrics).contains("service_mirror_leader{link=\"target\"} 1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_mirrors_and_a_successor_takes_over_on_shutdown() {
    let (west, east) = clusters().await;
    let a = replica(&west, &east, "controller-target-a");
    let b = replica(&west, &east, "controller-target-b");
    eventually("bb mirrored", || mirrored(&west, "bb")).await;
    eventually("one replica leads", || {
        let one = leads(&a) != leads(&b);
        async move { one }
    })
    .await;
    let (leader, standby) = if leads(&a) { (a, b) } else { (b, a) };
    let mirrors = |r: &Replica| exposition(&r.metrics).contains("service_mirror_mirrors{");
    assert!(mirrors(&leader), "the leader mirrors");
    assert!(!mirrors(&standby), "the standby writes nothing");

    // The leader's pod is stopped: it stops mirroring and releases the
    // Lease; the standby leads well before the lease would have expired
    // (within a third of it, so released, not expired), and mirrors what
    // is exported from then on.
    leader.shutdown.send_replace(true);
    tokio::time::timeout(Duration::from_secs(5), leader.task)
        .await
        .expect("the leader shuts down")
        .expect("cleanly");
    eventually_within(
        HANDOVER,
        format!("the standby leading within {HANDOVER:?} of the release, before the {LEASE:?} lease expires"),
        || {
            let now = leads(&standby);
            async move { now }
        },
    )
    .await;
    east.apply(&exported("web"), "kubectl").await.unwrap();
    eventually("web mirrored by the successor", || mirrored(&west, "web")).await;
    assert!(mirrors(&standby));
    standby.shutdown.send_replace(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), standby.task).await;
}
