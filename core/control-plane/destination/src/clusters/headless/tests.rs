use std::collections::BTreeMap;
use std::net::SocketAddr;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointSubset, Endpoints, Service};
use strait_api::{IntOrString, labels};

use crate::authority::{ResolveError, Target};
use crate::clusters::{Clusters, ResolutionKey};
use crate::config::ClusterConfig;
use crate::fixtures::{endpoints, meta, pod, service, slice};

const NS: &str = "mc-demo";
const FQ_WEB_0: &str = "web-0.web.mc-demo.svc.cluster.local:8080";
const EAST_IDENTITY: &str = "mc-demo-sa.mc-demo.serviceaccount.identity.linkerd.east.example";
const GATEWAY_IDENTITY: &str =
    "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn headless(name: &str) -> Service {
    service(NS, name, "None", &[("http", 8080, IntOrString::Int(8080))])
}

/// `cluster` runs StatefulSet `web`: web-0 (ready) and web-1 (not yet
/// ready), meshed, under headless Service `web`, and `bb`, a Service with
/// a ClusterIP.
fn with_web(clusters: &mut Clusters, cluster: &str) {
    clusters.update(cluster, |index| {
        index.apply_service(&headless("web"));
        index.apply_service(&service(
            NS,
            "bb",
            "10.96.0.8",
            &[("http", 8080, IntOrString::Int(8080))],
        ));
        index.apply_pod(&pod(NS, "web-0", "10.1.0.10", true, 8080));
        index.apply_pod(&pod(NS, "web-1", "10.1.0.11", true, 8080));
        let mut web = slice(
            NS,
            "web-abcde",
            "web",
            &[("10.1.0.10", "web-0", true), ("10.1.0.11", "web-1", false)],
            &[("http", 8080)],
        );
        for (endpoint, hostname) in web.endpoints.iter_mut().flatten().zip(["web-0", "web-1"]) {
            endpoint.hostname = Some(hostname.into());
        }
        index.apply_endpoint_slice(&web);
    });
}

fn web_0_key(cluster: &str, service: &str) -> ResolutionKey {
    ResolutionKey::new(cluster, NS, service, 8080).with_hostname(Some("web-0".into()))
}

fn addresses(clusters: &Clusters, key: &ResolutionKey) -> Vec<SocketAddr> {
    clusters
        .endpoints(key)
        .unwrap()
        .endpoints
        .keys()
        .copied()
        .collect()
}

#[test]
fn a_pods_name_resolves_to_that_pod_alone_with_its_identity() {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("east", ClusterConfig::default());
    with_web(&mut clusters, "east");
    let target = clusters.resolve("east", FQ_WEB_0, None).unwrap();
    assert_eq!(
        target,
        Ok(Target::Service {
            namespace: NS.into(),
            name: "web".into(),
            port: 8080,
            hostname: Some("web-0".into()),
        })
    );
    let set = clusters.endpoints(&web_0_key("east", "web")).unwrap();
    assert_eq!(set.len(), 1);
    let web_0 = set.get(&addr("10.1.0.10:8080")).unwrap();
    assert_eq!(
        web_0.identity.as_deref(),
        Some("mc-demo-sa.mc-demo.serviceaccount.identity.linkerd.cluster.local")
    );
    // web-1 is known but not ready: its name resolves, to nothing yet.
    let web_1 = "web-1.web.mc-demo.svc.cluster.local:8080";
    assert!(matches!(clusters.resolve("east", web_1, None), Some(Ok(_))));
    let key = ResolutionKey::new("east", NS, "web", 8080).with_hostname(Some("web-1".into()));
    assert!(clusters.endpoints(&key).unwrap().is_empty());
}

#[test]
fn a_pods_name_is_refused_under_a_service_with_a_cluster_ip_or_without_that_hostname() {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("east", ClusterConfig::default());
    with_web(&mut clusters, "east");
    let under_bb = "bb-0.bb.mc-demo.svc.cluster.local:8080";
    assert!(matches!(
        clusters.resolve("east", under_bb, None),
        Some(Err(ResolveError::NotHeadless { service, .. })) if service == "bb"
    ));
    let unknown = "web-7.web.mc-demo.svc.cluster.local:8080";
    assert!(matches!(
        clusters.resolve("east", unknown, None),
        Some(Err(ResolveError::UnknownHostname { hostname, .. })) if hostname == "web-7"
    ));
    // A Service not there yet is waited for, as any name.
    let later = "db-0.db.mc-demo.svc.cluster.local:5432";
    assert!(matches!(clusters.resolve("east", later, None), Some(Ok(_))));
}

/// A mirror Service as the service mirror writes it for `remote` of east.
fn mirror(name: &str, cluster_ip: &str, remote_discovery: bool, fq_name: &str) -> Service {
    let mut svc = service(
        NS,
        name,
        cluster_ip,
        &[("http", 8080, IntOrString::Int(8080))],
    );
    let mut mirror_labels = BTreeMap::from([
        (labels::MIRRORED_SERVICE.to_string(), "true".to_string()),
        (labels::MIRROR_CLUSTER_NAME.to_string(), "east".to_string()),
    ]);
    if remote_discovery {
        mirror_labels.insert(labels::REMOTE_DISCOVERY.into(), "east".into());
        mirror_labels.insert(labels::REMOTE_SERVICE.into(), "web".into());
    }
    if name != "web-east" {
        mirror_labels.insert(labels::MIRRORED_HEADLESS_SVC_NAME.into(), "web-east".into());
    }
    svc.metadata.labels = Some(mirror_labels);
    svc.metadata.annotations = Some(BTreeMap::from([(
        labels::REMOTE_SVC_FQ_NAME.to_string(),
        fq_name.to_string(),
    )]));
    svc
}

/// The headless mirror's Endpoints: web-0 and web-1 at their per-pod
/// mirrors' ClusterIPs.
fn headless_mirror_endpoints() -> Endpoints {
    let address = |ip: &str, host: &str| EndpointAddress {
        ip: ip.into(),
        hostname: Some(host.into()),
        ..EndpointAddress::default()
    };
    Endpoints {
        metadata: meta(NS, "web-east"),
        subsets: Some(vec![EndpointSubset {
            addresses: Some(vec![
                address("10.96.7.10", "web-0"),
                address("10.96.7.11", "web-1"),
            ]),
            ports: endpoints(NS, "x", &[], &[], &[("http", 8080)])
                .subsets
                .unwrap()[0]
                .ports
                .clone(),
            ..EndpointSubset::default()
        }]),
    }
}

fn linked(remote_discovery: bool) -> Clusters {
    let mut clusters = Clusters::new();
    clusters.insert_cluster("west", ClusterConfig::default());
    clusters.insert_cluster(
        "east",
        ClusterConfig {
            trust_domain: "east.example".into(),
            ..ClusterConfig::default()
        },
    );
    with_web(&mut clusters, "east");
    clusters.update("west", |west| {
        west.apply_service(&mirror(
            "web-east",
            "None",
            remote_discovery,
            "web.mc-demo.svc.cluster.local",
        ));
        for (name, ip) in [("web-0", "10.96.7.10"), ("web-1", "10.96.7.11")] {
            west.apply_service(&mirror(
                &format!("{name}-east"),
                ip,
                remote_discovery,
                &format!("{name}.web.mc-demo.svc.cluster.local"),
            ));
        }
        west.apply_endpoints(&headless_mirror_endpoints());
    });
    clusters
}

#[test]
fn remote_discovery_resolves_a_mirrored_pods_name_to_the_remote_pod() {
    let clusters = linked(true);
    let name = "web-0.web-east.mc-demo.svc.cluster.local:8080";
    assert!(matches!(clusters.resolve("west", name, None), Some(Ok(_))));
    let set = clusters.endpoints(&web_0_key("west", "web-east")).unwrap();
    assert_eq!(set.len(), 1);
    let web_0 = set.get(&addr("10.1.0.10:8080")).unwrap();
    assert_eq!(web_0.identity.as_deref(), Some(EAST_IDENTITY));
    // The per-pod mirror, as its ClusterIP reaches it, is that Pod too.
    let by_ip = clusters.resolve("west", "10.96.7.10:8080", None).unwrap();
    assert!(matches!(&by_ip, Ok(Target::Service { name, .. }) if name == "web-0-east"));
    let per_pod = ResolutionKey::new("west", NS, "web-0-east", 8080);
    assert_eq!(addresses(&clusters, &per_pod), vec![addr("10.1.0.10:8080")]);
    // A hostname east does not have is refused.
    let unknown = "web-5.web-east.mc-demo.svc.cluster.local:8080";
    assert!(matches!(
        clusters.resolve("west", unknown, None),
        Some(Err(ResolveError::UnknownHostname { .. }))
    ));
}

#[test]
fn gateway_mode_resolves_a_mirrored_pods_name_through_its_per_pod_mirror() {
    let mut clusters = linked(false);
    clusters.update("west", |west| {
        for name in ["web-0-east", "web-1-east"] {
            let mut gateway = endpoints(NS, name, &[], &[], &[("http", 4143)]);
            gateway.subsets.as_mut().unwrap()[0].addresses = Some(vec![EndpointAddress {
                ip: "172.18.0.5".into(),
                ..EndpointAddress::default()
            }]);
            gateway.metadata.annotations = Some(BTreeMap::from([(
                labels::REMOTE_GATEWAY_IDENTITY.to_string(),
                GATEWAY_IDENTITY.to_string(),
            )]));
            west.apply_endpoints(&gateway);
        }
    });
    let name = "web-0.web-east.mc-demo.svc.cluster.local:8080";
    assert!(matches!(clusters.resolve("west", name, None), Some(Ok(_))));
    let set = clusters.endpoints(&web_0_key("west", "web-east")).unwrap();
    assert_eq!(set.len(), 1);
    let gateway = set.get(&addr("172.18.0.5:4143")).unwrap();
    assert_eq!(gateway.identity.as_deref(), Some(GATEWAY_IDENTITY));
    assert_eq!(
        gateway.authority_override.as_deref(),
        Some("web-0.web.mc-demo.svc.cluster.local:8080")
    );
    // The whole headless mirror is the gateway too, asked for the whole
    // remote Service.
    let all = ResolutionKey::new("west", NS, "web-east", 8080);
    let set = clusters.endpoints(&all).unwrap();
    assert_eq!(addresses(&clusters, &all), vec![addr("172.18.0.5:4143")]);
    assert_eq!(
        set.get(&addr("172.18.0.5:4143"))
            .unwrap()
            .authority_override
            .as_deref(),
        Some("web.mc-demo.svc.cluster.local:8080")
    );
}
