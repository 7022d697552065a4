//! A remote headless Service mirrored as Linkerd's service mirror does: a
//! headless mirror and a per-pod mirror per remote hostname, in gateway
//! and remote-discovery mode, following the remote endpoints.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{Link, LinkSpec};
use strait_mirror::{MirrorHandle, ServiceMirror};
use strait_plugin_host::ExportPlugin;
use strait_store::{ClusterStore, MemoryStore};
use strait_test_support::eventually;
use strait_test_support::k8s::{meta, namespace};
use strait_test_support::plugins::{builtin_export, host};

const NS: &str = "mc-demo";
const GATEWAY_IDENTITY: &str =
    "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local";

/// Headless Service `web` in east, exported as `exported`.
fn web(exported: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            labels: Some(BTreeMap::from([(
                labels::EXPORTED.to_string(),
                exported.to_string(),
            )])),
            ..meta(Some(NS), "web")
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                ..Default::default()
            }]),
            selector: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// web's Endpoints in east, as the endpoints controller writes them: the
/// ready members `hostnames`, each at its own address.
fn web_endpoints(hostnames: &[&str]) -> Endpoints {
    Endpoints {
        metadata: ObjectMeta {
            labels: Some(BTreeMap::from([(
                "service.kubernetes.io/headless".to_string(),
                String::new(),
            )])),
            ..meta(Some(NS), "web")
        },
        subsets: Some(vec![EndpointSubset {
            addresses: Some(
                hostnames
                    .iter()
                    .enumerate()
                    .map(|(i, host)| EndpointAddress {
                        ip: format!("127.20.0.{}", i + 10),
                        hostname: Some(host.to_string()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ports: Some(vec![EndpointPort {
                name: Some("http".into()),
                port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        }]),
    }
}

fn link(gateway: bool) -> Link {
    let mut spec = LinkSpec {
        target_cluster_name: Some("east".into()),
        target_cluster_domain: Some("cluster.local".into()),
        target_cluster_linkerd_namespace: Some("linkerd".into()),
        cluster_credentials_secret: Some("cluster-credentials-east".into()),
        selector: Some(labels::default_gateway_selector()),
        remote_discovery_selector: Some(labels::default_remote_discovery_selector()),
        ..Default::default()
    };
    if gateway {
        spec.gateway_address = Some("127.0.0.9".into());
        spec.gateway_port = Some("4143".into());
        spec.gateway_identity = Some(GATEWAY_IDENTITY.into());
    }
    let mut link = Link::new("east", spec);
    link.metadata.namespace = Some("linkerd".into());
    link
}

struct Clusters {
    east: MemoryStore,
    west: MemoryStore,
    plugin: Arc<ExportPlugin>,
}

impl Clusters {
    async fn new(gateway: bool) -> Clusters {
        let east = MemoryStore::new();
        let west = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
        east.apply(&namespace(NS), "test").await.unwrap();
        for ns in ["linkerd", NS] {
            west.apply(&namespace(ns), "test").await.unwrap();
        }
        west.apply(&link(gateway), "test").await.unwrap();
        Clusters {
            east,
            west,
            plugin: builtin_export(&host()),
        }
    }

    async fn start(&self, gateway: bool) -> MirrorHandle {
        ServiceMirror::new(
            self.west.clone(),
            self.east.clone(),
            &link(gateway),
            self.plugin.clone(),
        )
        .await
        .unwrap()
        .spawn()
    }

    async fn service(&self, name: &str) -> Option<Service> {
        self.west.get::<Service>(NS, name).await.unwrap()
    }

    async fn endpoints(&self, name: &str) -> Option<Endpoints> {
        self.west.get::<Endpoints>(NS, name).await.unwrap()
    }

    /// The headless mirror's Endpoints: each hostname with its address.
    async fn named_addresses(&self) -> BTreeMap<String, String> {
        self.endpoints("web-east")
            .await
            .and_then(|e| e.subsets)
            .into_iter()
            .flatten()
            .flat_map(|s| s.addresses.into_iter().flatten())
            .filter_map(|a| Some((a.hostname?, a.ip)))
            .collect()
    }
}

fn cluster_ip(svc: &Service) -> String {
    svc.spec.as_ref().unwrap().cluster_ip.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_export_gets_per_pod_mirrors_behind_the_gateway() {
    let c = Clusters::new(true).await;
    let mirror = c.start(true).await;
    c.east
        .apply(&web_endpoints(&["web-0", "web-1"]), "kubectl")
        .await
        .unwrap();
    c.east.apply(&web("true"), "kubectl").await.unwrap();
    let named = eventually("web-0 and web-1 in the headless mirror", || async {
        let named = c.named_addresses().await;
        (named.len() == 2).then_some(named)
    })
    .await;
    let headless = c.service("web-east").await.unwrap();
    assert_eq!(cluster_ip(&headless), "None");
    for host in ["web-0", "web-1"] {
        let per_pod = c.service(&format!("{host}-east")).await.unwrap();
        assert_eq!(
            named[host],
            cluster_ip(&per_pod),
            "{host} at its mirror's ClusterIP"
        );
        let per_pod_labels = per_pod.metadata.labels.unwrap();
        assert_eq!(
            per_pod_labels[labels::MIRRORED_HEADLESS_SVC_NAME],
            "web-east"
        );
        assert!(!per_pod_labels.contains_key(labels::REMOTE_DISCOVERY));
        assert_eq!(
            per_pod.metadata.annotations.unwrap()[labels::REMOTE_SVC_FQ_NAME],
            format!("{host}.web.{NS}.svc.cluster.local")
        );
        let gateway = c.endpoints(&format!("{host}-east")).await.unwrap();
        assert_eq!(
            gateway.metadata.annotations.unwrap()[labels::REMOTE_GATEWAY_IDENTITY],
            GATEWAY_IDENTITY
        );
        let subset = &gateway.subsets.unwrap()[0];
        assert_eq!(subset.addresses.as_ref().unwrap()[0].ip, "127.0.0.9");
        assert_eq!(subset.ports.as_ref().unwrap()[0].port, 4143);
    }

    // A member going away takes its per-pod mirror with it.
    c.east
        .apply(&web_endpoints(&["web-0"]), "kubectl")
        .await
        .unwrap();
    eventually("web-1-east removed", || async {
        c.service("web-1-east").await.is_none() && c.named_addresses().await.len() == 1
    })
    .await;
    assert!(c.endpoints("web-1-east").await.is_none());
    // ... and one coming adds one.
    c.east
        .apply(&web_endpoints(&["web-0", "web-1", "web-2"]), "kubectl")
        .await
        .unwrap();
    eventually("three per-pod mirrors", || async {
        c.named_addresses().await.len() == 3 && c.service("web-2-east").await.is_some()
    })
    .await;

    // Unexporting removes every mirror.
    let mut unexported = web("true");
    unexported.metadata.labels = None;
    c.east.apply(&unexported, "kubectl").await.unwrap();
    eventually("every mirror removed", || async {
        let mut gone = c.service("web-east").await.is_none();
        for host in ["web-0", "web-1", "web-2"] {
            gone &= c.service(&format!("{host}-east")).await.is_none();
        }
        gone
    })
    .await;
    mirror.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_remote_discovery_export_gets_per_pod_mirrors_that_resolve_remotely() {
    let c = Clusters::new(false).await;
    let mirror = c.start(false).await;
    // Exported before it has members: mirrored with a ClusterIP, then made
    // anew as headless once a member has a hostname.
    c.east
        .apply(&web("remote-discovery"), "kubectl")
        .await
        .unwrap();
    eventually("a mirror", || async {
        c.service("web-east").await.is_some()
    })
    .await;
    assert_ne!(cluster_ip(&c.service("web-east").await.unwrap()), "None");
    c.east
        .apply(&web_endpoints(&["web-0"]), "kubectl")
        .await
        .unwrap();
    let named = eventually("web-0 in the headless mirror", || async {
        let named = c.named_addresses().await;
        (named.len() == 1).then_some(named)
    })
    .await;
    let headless = c.service("web-east").await.unwrap();
    assert_eq!(cluster_ip(&headless), "None");
    let per_pod = c.service("web-0-east").await.unwrap();
    assert_eq!(named["web-0"], cluster_ip(&per_pod));
    let per_pod_labels = per_pod.metadata.labels.unwrap();
    assert_eq!(per_pod_labels[labels::REMOTE_DISCOVERY], "east");
    assert_eq!(per_pod_labels[labels::REMOTE_SERVICE], "web");
    assert_eq!(
        per_pod_labels[labels::MIRRORED_HEADLESS_SVC_NAME],
        "web-east"
    );
    assert!(
        c.endpoints("web-0-east").await.is_none(),
        "a remote-discovery per-pod mirror has no Endpoints"
    );
    // Scaled to zero: no per-pod mirror, and the mirror stays headless.
    c.east.apply(&web_endpoints(&[]), "kubectl").await.unwrap();
    eventually("web-0-east removed", || async {
        c.service("web-0-east").await.is_none()
    })
    .await;
    assert_eq!(cluster_ip(&c.service("web-east").await.unwrap()), "None");
    mirror.stop().await;
}
