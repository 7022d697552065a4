//! Setup shared by the runtime's end-to-end tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use k8s_openapi::api::core::v1::{Namespace, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{Link, LinkSpec};
use strait_store::{ClusterStore, MemoryStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn meta(ns: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(str::to_string),
        ..Default::default()
    }
}

pub fn namespace(name: &str) -> Namespace {
    Namespace {
        metadata: meta(None, name),
        ..Default::default()
    }
}

/// A Service of mc-demo exported pod to pod.
pub fn exported(name: &str) -> Service {
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

/// Link `target` in linkerd, to cluster east, with its credentials in
/// Secret `cluster-credentials-east`.
pub fn link() -> Link {
    let mut link = Link::new(
        "target",
        LinkSpec {
            target_cluster_name: Some("east".into()),
            target_cluster_domain: Some("cluster.local".into()),
            cluster_credentials_secret: Some("cluster-credentials-east".into()),
            selector: Some(labels::default_gateway_selector()),
            remote_discovery_selector: Some(labels::default_remote_discovery_selector()),
            ..Default::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    link
}

/// Whether `west` holds the mirror of east's Service `name`.
pub async fn mirrored(west: &MemoryStore, name: &str) -> bool {
    west.get::<Service>("mc-demo", &format!("{name}-east"))
        .await
        .ok()
        .flatten()
        .is_some()
}

pub use strait_test_support::eventually;

/// A loopback address nothing listens on now.
pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], strait_test_support::net::free_port()))
}

/// The status line and body of `GET path` on `addr`, or `None` while
/// nothing answers there.
pub async fn get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    Some(response)
}
