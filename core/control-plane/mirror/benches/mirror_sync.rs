//! The service mirror on the embedded store:
//! - latency from the export label being applied in the target cluster to the
//!   mirror being visible in the source cluster (p50 / p99 over 1,000 Services),
//!   with the target reached in-process and, side by side in the same run,
//!   through its Kubernetes API (HTTPS, kube-rs), as on a cluster;
//! - a cold sync of 10,000 exported Services (time, and peak memory growth).
//!
//! `cargo bench -p strait-mirror --bench mirror_sync`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{Link, LinkSpec};
use strait_apiserver::kubeconfig::{self, ClusterApi};
use strait_apiserver::{ApiConfig, ServingTls, serve};
use strait_mirror::ServiceMirror;
use strait_plugin_host::ExportPlugin;
use strait_store::{ClusterStore, Event, MemoryStore, Reachability, WatchParams};
use strait_store_kube::KubeStore;
use strait_test_support::bench::{memory_kib, percentile, runtime};
use strait_test_support::k8s::namespace;
use strait_test_support::plugins::{builtin_export, host};

fn service(name: &str, exported: Option<&str>) -> Service {
    let mut l = BTreeMap::from([("app".to_string(), name.to_string())]);
    if let Some(v) = exported {
        l.insert(labels::EXPORTED.to_string(), v.to_string());
    }
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("mc-demo".into()),
            labels: Some(l),
            ..Default::default()
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
            target_cluster_name: Some("target".into()),
            selector: Some(labels::default_gateway_selector()),
            remote_discovery_selector: Some(labels::default_remote_discovery_selector()),
            ..Default::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    link
}

async fn clusters() -> (MemoryStore, MemoryStore, Arc<ExportPlugin>) {
    let east = MemoryStore::new();
    let west = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    east.apply(&namespace("mc-demo"), "bench")
        .await
        .expect("namespace");
    for ns in ["mc-demo", "linkerd"] {
        west.apply(&namespace(ns), "bench")
            .await
            .expect("namespace");
    }
    west.apply(&link(), "bench").await.expect("link");
    (east, west, builtin_export(&host()))
}

/// This process's peak resident memory, in KiB.
fn peak_rss_kib() -> u64 {
    memory_kib(std::process::id()).1
}

/// How the mirror reaches the target cluster.
#[derive(Clone, Copy)]
enum Reach {
    InProcess,
    Api,
}

/// East's Kubernetes API over HTTPS, and a kube-rs client of it.
async fn api_of(east: &MemoryStore) -> (KubeStore, tokio::task::JoinHandle<()>) {
    let tls = ServingTls::generate("east").expect("tls");
    let ca_pem = tls.ca_pem().to_string();
    let token = "bench-token".to_string();
    let config = ApiConfig {
        cluster: "east".into(),
        store: east.clone(),
        token: token.clone(),
        tls: Arc::new(tls),
        reachability: Reachability::new(),
        host: None,
    };
    let (addr, task) = serve(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("serve");
    let kubeconfig = kubeconfig::single(&ClusterApi {
        name: "east".into(),
        server: format!("https://{addr}"),
        ca_pem,
        token,
    })
    .expect("kubeconfig");
    (
        KubeStore::from_kubeconfig_yaml(&kubeconfig).expect("client"),
        task,
    )
}

async fn label_to_mirror_latency(count: usize, reach: Reach) -> Vec<Duration> {
    let (east, west, plugin) = clusters().await;
    for i in 0..count {
        east.apply(&service(&format!("svc-{i}"), None), "bench")
            .await
            .expect("service");
    }
    match reach {
        Reach::InProcess => measure(count, east.clone(), east, west, plugin).await,
        Reach::Api => {
            let (remote, api) = api_of(&east).await;
            let latencies = measure(count, remote, east, west, plugin).await;
            api.abort();
            latencies
        }
    }
}

/// Labels each Service in `east` and times its mirror appearing in `west`,
/// the mirror reaching east through `remote`.
async fn measure<R: ClusterStore>(
    count: usize,
    remote: R,
    east: MemoryStore,
    west: MemoryStore,
    plugin: Arc<ExportPlugin>,
) -> Vec<Duration> {
    let mirror = ServiceMirror::new(west.clone(), remote, &link(), plugin)
        .await
        .expect("mirror")
        .spawn();
    let mut mirrors =
        west.watch::<Service>(WatchParams::labelled(labels::MIRROR_CLUSTER_NAME, "target"));
    let _ = mirrors.next().await;
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let name = format!("svc-{i}");
        let start = Instant::now();
        east.apply(&service(&name, Some("remote-discovery")), "bench")
            .await
            .expect("label");
        let wanted = format!("{name}-target");
        loop {
            match mirrors.next().await {
                Some(Ok(Event::Apply(s)))
                    if s.metadata.name.as_deref() == Some(wanted.as_str()) =>
                {
                    break;
                }
                Some(_) => continue,
                None => panic!("mirror watch ended"),
            }
        }
        latencies.push(start.elapsed());
    }
    mirror.stop().await;
    latencies.sort();
    latencies
}

async fn cold_sync(count: usize) -> (Duration, u64) {
    let (east, west, plugin) = clusters().await;
    for i in 0..count {
        east.apply(
            &service(&format!("svc-{i}"), Some("remote-discovery")),
            "bench",
        )
        .await
        .expect("service");
    }
    let before = peak_rss_kib();
    let mut mirrors =
        west.watch::<Service>(WatchParams::labelled(labels::MIRROR_CLUSTER_NAME, "target"));
    let _ = mirrors.next().await;
    let start = Instant::now();
    let mirror = ServiceMirror::new(west.clone(), east.clone(), &link(), plugin)
        .await
        .expect("mirror")
        .spawn();
    let mut seen = 0;
    while seen < count {
        match mirrors.next().await {
            Some(Ok(Event::Apply(_))) => seen += 1,
            Some(Ok(Event::Reset(all))) => seen = all.len(),
            Some(_) => {}
            None => panic!("mirror watch ended"),
        }
    }
    let elapsed = start.elapsed();
    mirror.stop().await;
    (elapsed, peak_rss_kib().saturating_sub(before))
}

fn main() {
    runtime().block_on(async {
        // The cold sync first: its peak RSS growth is read from the
        // process's peak, which later runs would already have raised.
        let (elapsed, peak) = cold_sync(10_000).await;
        println!("cold sync of 10000 exported services: {:.2} s, peak RSS growth {} MiB (target <= 3 s: {})",
            elapsed.as_secs_f64(), peak / 1024, if elapsed <= Duration::from_secs(3) { "met" } else { "missed" });
        for (reach, how) in [(Reach::InProcess, "in-process"), (Reach::Api, "through the API")] {
            let latencies = label_to_mirror_latency(1_000, reach).await;
            let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));
            println!("label -> mirror visible, 1000 services, target {how}: p50 {:.2} ms, p99 {:.2} ms (target p99 <= 50 ms: {})",
                p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3, if p99 <= Duration::from_millis(50) { "met" } else { "missed" });
        }
    });
}
