//! A gateway that stops answering its probe: mirror Endpoints list it as not
//! ready until it answers again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointSubset, Endpoints, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{Link, LinkSpec, ProbeSpec};
use strait_mirror::{MirrorMetrics, ServiceMirror};
use strait_store::{ClusterStore, MemoryStore};
use strait_test_support::eventually;
use strait_test_support::k8s::{meta, namespace};
use strait_test_support::metrics::exposition;
use strait_test_support::plugins::{builtin_export, host};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A gateway health endpoint answering 200 while `healthy`, else 503.
async fn health_endpoint(healthy: Arc<AtomicBool>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let healthy = healthy.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let status = if healthy.load(Ordering::SeqCst) {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                };
                let response =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_gateway_is_listed_as_not_ready_until_it_answers_again() {
    let healthy = Arc::new(AtomicBool::new(true));
    let probe_port = health_endpoint(healthy.clone()).await;
    let (east, west) = (MemoryStore::new(), MemoryStore::new());
    east.apply(&namespace("mc-demo"), "test").await.unwrap();
    for ns in ["mc-demo", "linkerd"] {
        west.apply(&namespace(ns), "test").await.unwrap();
    }
    let mut link = Link::new(
        "target",
        LinkSpec {
            target_cluster_name: Some("target".into()),
            gateway_address: Some("127.0.0.1".into()),
            gateway_port: Some("4143".into()),
            gateway_identity: Some("gateway.identity".into()),
            probe_spec: Some(ProbeSpec {
                path: Some("/ready".into()),
                port: Some(probe_port.to_string()),
                period: Some("50ms".into()),
                timeout: Some("1s".into()),
                failure_threshold: Some("2".into()),
            }),
            selector: Some(labels::default_gateway_selector()),
            ..Default::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    west.apply(&link, "test").await.unwrap();
    east.apply(
        &Service {
            metadata: ObjectMeta {
                labels: Some(BTreeMap::from([(
                    labels::EXPORTED.to_string(),
                    "true".to_string(),
                )])),
                ..meta(Some("mc-demo"), "bb")
            },
            spec: Some(ServiceSpec {
                ports: Some(vec![ServicePort {
                    port: 8080,
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap();
    east.apply(
        &Endpoints {
            metadata: meta(Some("mc-demo"), "bb"),
            subsets: Some(vec![EndpointSubset {
                addresses: Some(vec![EndpointAddress {
                    ip: "127.20.0.5".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }]),
        },
        "test",
    )
    .await
    .unwrap();
    let plugin = builtin_export(&host());
    let metrics = MirrorMetrics::default();
    let mirror = ServiceMirror::new(west.clone(), east.clone(), &link, plugin)
        .await
        .unwrap()
        .with_metrics(metrics.clone())
        .spawn();

    let subset = || {
        let west = west.clone();
        async move {
            west.get::<Endpoints>("mc-demo", "bb-target")
                .await
                .unwrap()
                .and_then(|e| e.subsets)
                .and_then(|s| s.into_iter().next())
        }
    };
    let wait = |want: fn(&Option<EndpointSubset>) -> bool, what: &'static str| {
        eventually(what, async move || want(&subset().await))
    };
    wait(
        |s| {
            s.as_ref()
                .and_then(|s| s.addresses.as_ref())
                .is_some_and(|a| !a.is_empty())
        },
        "gateway ready",
    )
    .await;
    // The gateway counts as alive from the start, so its endpoints can be
    // ready before the first probe has answered: wait for that answer.
    eventually("a successful probe counted", async || {
        exposition(|r| metrics.register(r))
            .contains(r#"gateway_probes_total{link="target",outcome="success"}"#)
    })
    .await;

    healthy.store(false, Ordering::SeqCst);
    wait(
        |s| {
            s.as_ref()
                .and_then(|s| s.not_ready_addresses.as_ref())
                .is_some_and(|a| !a.is_empty())
        },
        "gateway not ready",
    )
    .await;
    let text = exposition(|r| metrics.register(r));
    assert!(text.contains(r#"gateway_alive{link="target"} 0"#), "{text}");

    healthy.store(true, Ordering::SeqCst);
    wait(
        |s| {
            s.as_ref()
                .and_then(|s| s.addresses.as_ref())
                .is_some_and(|a| !a.is_empty())
        },
        "gateway ready again",
    )
    .await;
    assert!(exposition(|r| metrics.register(r)).contains(r#"gateway_alive{link="target"} 1"#));
    mirror.stop().await;
}
