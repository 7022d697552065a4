//! Two replicas of one Link's service mirror between embedded clusters:
//! only the one holding the Lease mirrors, and when it shuts down the other
//! takes over and goes on mirroring.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{Link, LinkSpec};
use strait_mirror::leader::{Elector, LeaseConfig, while_leading};
use strait_mirror::{MirrorMetrics, connect_embedded, supervise_link};
use strait_store::{ClusterStore, MemoryStore};
use support::{eventually, export_plugin, exposition, meta, namespace};
use tokio::sync::watch;
use tokio::task::JoinHandle;

fn exported(name: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            labels: Some(BTreeMap::from([(
                labels::EXPORTED.to_string(),
                "remote-discovery".to_string(),
            )])),
            ..meta(Some("mc-demo"), name)
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn link() -> Link {
    let mut link = Link::new(
        "target",
        LinkSpec {
            target_cluster_name: Some("east".into()),
            target_cluster_domain: Some("cluster.local".into()),
            selector: Some(labels::default_gateway_selector()),
            remote_discovery_selector: Some(labels::default_remote_discovery_selector()),
            ..Default::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    link
}

/// One replica of `controller-target`, as `strait controller
/// service-mirror` composes it; short real durations.
struct Replica {
    metrics: MirrorMetrics,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

fn replica(
    west: &MemoryStore,
    clusters: &Arc<BTreeMap<String, MemoryStore>>,
    name: &str,
) -> Replica {
    let config = LeaseConfig {
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(1500),
        retry_period: Duration::from_millis(200),
        ..LeaseConfig::for_link("linkerd", "target", name)
    };
    let leadership = Elector::new(west.clone(), config).expect("config").spawn();
    let metrics = MirrorMetrics::default();
    let (shutdown, stopped) = watch::channel(false);
    let (west, clusters, m) = (west.clone(), clusters.clone(), metrics.clone());
    let plugin = export_plugin();
    let task = tokio::spawn(async move {
        let mut leading = leadership.watch();
        let gauge = m.clone();
        tokio::spawn(async move {
            loop {
                gauge.set_leader("target", *leading.borrow_and_update());
                if leading.changed().await.is_err() {
                    break;
                }
            }
        });
        while_leading(leadership.watch(), stopped, |stop| {
            supervise_link(
                west.clone(),
                "linkerd".to_string(),
                "target".to_string(),
                connect_embedded(clusters.clone()),
                plugin.clone(),
                m.clone(),
                stop,
            )
        })
        .await;
        leadership.release().await;
    });
    Replica {
        metrics,
        shutdown,
        task,
    }
}

fn leads(replica: &Replica) -> bool {
    exposition(&replica.metrics).contains("service_mirror_leader{link=\"target\"} 1")
}

async fn mirrored(west: &MemoryStore, name: &str) -> bool {
    west.get::<Service>("mc-demo", &format!("{name}-east"))
        .await
        .ok()
        .flatten()
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_mirrors_and_a_successor_takes_over_on_shutdown() {
    let east = MemoryStore::new();
    let west = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    for store in [&east, &west] {
        store.apply(&namespace("mc-demo"), "test").await.unwrap();
    }
    west.apply(&namespace("linkerd"), "test").await.unwrap();
    west.apply(&link(), "test").await.unwrap();
    east.apply(&exported("bb"), "kubectl").await.unwrap();
    let clusters = Arc::new(BTreeMap::from([("east".to_string(), east.clone())]));

    let a = replica(&west, &clusters, "controller-target-a");
    let b = replica(&west, &clusters, "controller-target-b");
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
    // Lease; the standby leads well before the lease would have expired,
    // and mirrors what is exported from then on.
    leader.shutdown.send_replace(true);
    tokio::time::timeout(Duration::from_secs(5), leader.task)
        .await
        .expect("the leader shuts down")
        .expect("cleanly");
    let handed_over = std::time::Instant::now();
    eventually("the standby leads", || {
        let now = leads(&standby);
        async move { now }
    })
    .await;
    assert!(
        handed_over.elapsed() < Duration::from_secs(2),
        "released, not expired"
    );
    east.apply(&exported("web"), "kubectl").await.unwrap();
    eventually("web mirrored by the successor", || mirrored(&west, "web")).await;
    assert!(mirrors(&standby));
    standby.shutdown.send_replace(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), standby.task).await;
}
