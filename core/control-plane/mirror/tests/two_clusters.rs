//! The service mirror between two embedded clusters: east exports, west mirrors.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointSubset, Endpoints, Namespace, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{ConditionStatus, Link, LinkSpec};
use strait_mirror::{MirrorHandle, MirrorMetrics, ServiceMirror};
use strait_plugin_host::{ExportPlugin, PluginBytes};
use strait_store::{ClusterStore, MemoryStore};
use strait_test_support::eventually;
use strait_test_support::k8s::{meta, namespace};
use strait_test_support::metrics::exposition;
use strait_test_support::plugins::{builtin_export, host};
use strait_test_support::scrape;

fn bb(exported: Option<&str>) -> Service {
    let mut labels = BTreeMap::from([("app".to_string(), "bb".to_string())]);
    if let Some(value) = exported {
        labels.insert(labels::EXPORTED.into(), value.into());
    }
    Service {
        metadata: ObjectMeta {
            labels: Some(labels),
            ..meta(Some("mc-demo"), "bb")
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                target_port: Some(strait_api::IntOrString::Int(8080)),
                ..Default::default()
            }]),
            selector: Some(BTreeMap::from([("app".to_string(), "bb".to_string())])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// bb's Endpoints in east, with a ready pod or none.
fn bb_endpoints(ready: bool) -> Endpoints {
    Endpoints {
        metadata: meta(Some("mc-demo"), "bb"),
        subsets: Some(if ready {
            vec![EndpointSubset {
                addresses: Some(vec![EndpointAddress {
                    ip: "127.20.0.5".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }]
        } else {
            vec![]
        }),
    }
}

fn link(gateway: bool) -> Link {
    let mut spec = LinkSpec {
        target_cluster_name: Some("target".into()),
        target_cluster_domain: Some("cluster.local".into()),
        target_cluster_linkerd_namespace: Some("linkerd".into()),
        cluster_credentials_secret: Some("cluster-credentials-target".into()),
        selector: Some(labels::default_gateway_selector()),
        remote_discovery_selector: Some(labels::default_remote_discovery_selector()),
        ..Default::default()
    };
    if gateway {
        spec.gateway_address = Some("127.0.0.9".into());
        spec.gateway_port = Some("4143".into());
        spec.gateway_identity = Some(
            "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local"
                .into(),
        );
    }
    Link::new("target", spec).within("linkerd")
}

/// How many export decisions `metrics` counted as `decision` (a mirror
/// decides on every remote Service it reconciles, exported or not): what
/// a test waits for before it looks for what the mirror did not do.
fn decided(metrics: &MirrorMetrics, decision: &str) -> f64 {
    scrape::sum(
        &exposition(|r| metrics.register(r)),
        "service_mirror_plugin_decisions_total",
        &[&format!("decision=\"{decision}\"")],
    )
}

/// The Link with a remote discovery selector the mirror cannot read: its
/// supervisor reports it in an `InvalidLink` Event and mirrors nothing.
fn broken_link() -> Link {
    let mut broken = link(false);
    broken.spec.remote_discovery_selector = Some(strait_api::LabelSelector {
        match_expressions: Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
                key: "app".into(),
                operator: "Sometimes".into(),
                values: None,
            },
        ]),
        ..Default::default()
    });
    broken
}

/// The `InvalidLink` Event the supervisor of Link `target` records.
async fn invalid_link_event(west: &MemoryStore) -> Option<k8s_openapi::api::core::v1::Event> {
    west.get::<k8s_openapi::api::core::v1::Event>(
        "linkerd",
        "target.invalid-link.strait-service-mirror",
    )
    .await
    .unwrap()
}

trait Within {
    fn within(self, ns: &str) -> Self;
}

impl Within for Link {
    fn within(mut self, ns: &str) -> Self {
        self.metadata.namespace = Some(ns.into());
        self
    }
}

struct Clusters {
    east: MemoryStore,
    west: MemoryStore,
    plugin: Arc<ExportPlugin>,
}

async fn clusters(gateway: bool, west_has_namespace: bool) -> Clusters {
    let east = MemoryStore::new();
    let west = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    east.apply(&namespace("mc-demo"), "test").await.unwrap();
    west.apply(&namespace("linkerd"), "test").await.unwrap();
    if west_has_namespace {
        west.apply(&namespace("mc-demo"), "test").await.unwrap();
    }
    west.apply(&link(gateway), "test").await.unwrap();
    Clusters {
        east,
        west,
        plugin: builtin_export(&host()),
    }
}

impl Clusters {
    async fn start(&self, gateway: bool) -> MirrorHandle {
        self.start_counted(gateway).await.0
    }

    /// A mirror, and the metrics it counts its decisions in.
    async fn start_counted(&self, gateway: bool) -> (MirrorHandle, MirrorMetrics) {
        let metrics = MirrorMetrics::default();
        let handle = ServiceMirror::new(
            self.west.clone(),
            self.east.clone(),
            &link(gateway),
            self.plugin.clone(),
        )
        .await
        .unwrap()
        .with_metrics(metrics.clone())
        .spawn();
        (handle, metrics)
    }

    async fn mirror(&self) -> Option<Service> {
        self.west
            .get::<Service>("mc-demo", "bb-target")
            .await
            .unwrap()
    }

    async fn status_reasons(&self) -> Vec<(String, String, ConditionStatus)> {
        let link: Link = self.west.get("linkerd", "target").await.unwrap().unwrap();
        link.status
            .and_then(|s| s.mirror_services)
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                let c = e.conditions.unwrap_or_default().remove(0);
                (e.remote_ref.name, c.reason, c.status)
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_discovery_export_appears_with_linkerds_labels_and_no_endpoints() {
    let c = clusters(false, true).await;
    let (mirror, metrics) = c.start_counted(false).await;
    c.east.apply(&bb(None), "test").await.unwrap();
    eventually("the mirror decided on bb", || async {
        decided(&metrics, "not-exported") >= 1.0
    })
    .await;
    assert!(
        c.mirror().await.is_none(),
        "an unexported Service is not mirrored"
    );

    let remote = c
        .east
        .apply(&bb(Some("remote-discovery")), "kubectl")
        .await
        .unwrap();
    eventually("bb-target in west", || async { c.mirror().await.is_some() }).await;
    let svc = c.mirror().await.unwrap();
    let l = svc.metadata.labels.clone().unwrap();
    assert_eq!(l[labels::MIRRORED_SERVICE], "true");
    assert_eq!(l[labels::MIRROR_CLUSTER_NAME], "target");
    assert_eq!(l[labels::REMOTE_DISCOVERY], "target");
    assert_eq!(l[labels::REMOTE_SERVICE], "bb");
    assert_eq!(l["app"], "bb", "remote labels are copied");
    assert!(
        !l.contains_key(labels::EXPORTED),
        "mirror.linkerd.io/* labels are not copied"
    );
    let a = svc.metadata.annotations.clone().unwrap();
    assert_eq!(
        a[labels::REMOTE_SVC_FQ_NAME],
        "bb.mc-demo.svc.cluster.local"
    );
    assert_eq!(
        Some(&a[labels::REMOTE_RESOURCE_VERSION]),
        remote.metadata.resource_version.as_ref()
    );
    let spec = svc.spec.unwrap();
    assert!(spec.selector.is_none(), "mirrors have no selector");
    let port = &spec.ports.unwrap()[0];
    assert_eq!((port.name.as_deref(), port.port), (Some("http"), 8080));
    assert!(
        spec.cluster_ip.unwrap().starts_with("10.11"),
        "a local ClusterIP"
    );
    assert!(
        c.west
            .get::<Endpoints>("mc-demo", "bb-target")
            .await
            .unwrap()
            .is_none()
    );
    eventually("Mirrored status", || async {
        c.status_reasons().await == vec![("bb".into(), "Mirrored".into(), ConditionStatus::True)]
    })
    .await;
    mirror.stop().await;
}

async fn mirror_endpoints(c: &Clusters) -> Option<Endpoints> {
    c.west
        .get::<Endpoints>("mc-demo", "bb-target")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_mode_points_endpoints_at_the_gateway_and_unexport_removes_the_mirror() {
    let c = clusters(true, true).await;
    let metrics = strait_mirror::MirrorMetrics::default();
    let mirror = ServiceMirror::new(
        c.west.clone(),
        c.east.clone(),
        &link(true),
        c.plugin.clone(),
    )
    .await
    .unwrap()
    .with_metrics(metrics.clone())
    .spawn();
    c.east.apply(&bb_endpoints(true), "kubectl").await.unwrap();
    c.east.apply(&bb(Some("true")), "kubectl").await.unwrap();
    eventually("gateway Endpoints", || async {
        mirror_endpoints(&c).await.is_some()
    })
    .await;
    let ep = mirror_endpoints(&c).await.unwrap();
    let annotations = ep.metadata.annotations.unwrap();
    assert_eq!(
        annotations[labels::REMOTE_GATEWAY_IDENTITY],
        "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local"
    );
    let subset = &ep.subsets.unwrap()[0];
    assert_eq!(subset.addresses.as_ref().unwrap()[0].ip, "127.0.0.9");
    let port = &subset.ports.as_ref().unwrap()[0];
    assert_eq!((port.name.as_deref(), port.port), (Some("http"), 4143));
    let l = c.mirror().await.unwrap().metadata.labels.unwrap();
    assert!(
        !l.contains_key(labels::REMOTE_DISCOVERY),
        "gateway mirrors are not remote-discovery"
    );
    let text = exposition(|r| metrics.register(r));
    assert!(
        text.contains(r#"service_mirror_mirrors{link="target",mode="gateway"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"service_mirror_plugin_decisions_total{link="target",decision="gateway",outcome="ok"}"#),
        "{text}"
    );

    // No ready pod behind the remote Service: the mirror's Endpoints empty out.
    c.east.apply(&bb_endpoints(false), "kubectl").await.unwrap();
    eventually("Endpoints emptied", || async {
        mirror_endpoints(&c).await.and_then(|e| e.subsets) == Some(vec![])
    })
    .await;
    c.east.apply(&bb_endpoints(true), "kubectl").await.unwrap();
    eventually("Endpoints filled again", || async {
        mirror_endpoints(&c)
            .await
            .and_then(|e| e.subsets)
            .is_some_and(|s| s.len() == 1)
    })
    .await;

    // Switching to remote discovery drops the Endpoints.
    c.east
        .apply(&bb(Some("remote-discovery")), "kubectl")
        .await
        .unwrap();
    eventually("Endpoints removed", || async {
        mirror_endpoints(&c).await.is_none()
    })
    .await;

    // Removing the label removes the mirror and its status entry.
    c.east.apply(&bb(None), "kubectl").await.unwrap();
    eventually("mirror removed", || async { c.mirror().await.is_none() }).await;
    eventually("status entry removed", || async {
        c.status_reasons().await.is_empty()
    })
    .await;
    let text = exposition(|r| metrics.register(r));
    assert!(
        text.contains(r#"service_mirror_mirrors{link="target",mode="gateway"} 0"#),
        "{text}"
    );
    assert!(
        text.contains(r#"service_mirror_mirrors{link="target",mode="remote-discovery"} 0"#),
        "{text}"
    );
    mirror.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_namespace_is_reported_then_mirrored_when_it_appears() {
    let c = clusters(false, false).await;
    let mirror = c.start(false).await;
    c.east
        .apply(&bb(Some("remote-discovery")), "kubectl")
        .await
        .unwrap();
    eventually("MissingNamespace status", || async {
        c.status_reasons().await
            == vec![(
                "bb".into(),
                "MissingNamespace".into(),
                ConditionStatus::False,
            )]
    })
    .await;
    let event: k8s_openapi::api::core::v1::Event = c
        .east
        .get("mc-demo", "bb.mirror-missing-namespace.target")
        .await
        .unwrap()
        .expect("a Warning event on the remote Service");
    assert_eq!(event.reason.as_deref(), Some("MissingNamespace"));
    assert_eq!(event.involved_object.name.as_deref(), Some("bb"));
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    c.west
        .apply(&namespace("mc-demo"), "kubectl")
        .await
        .unwrap();
    eventually("mirrored once the namespace exists", || async {
        c.mirror().await.is_some()
    })
    .await;
    eventually("Mirrored status", || async {
        c.status_reasons().await == vec![("bb".into(), "Mirrored".into(), ConditionStatus::True)]
    })
    .await;
    mirror.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_nothing_changed_writes_nothing_and_orphans_are_collected() {
    let c = clusters(true, true).await;
    let mirror = c.start(true).await;
    c.east.apply(&bb_endpoints(true), "kubectl").await.unwrap();
    c.east.apply(&bb(Some("true")), "kubectl").await.unwrap();
    eventually("mirrored with Endpoints and status", || async {
        c.west
            .get::<Endpoints>("mc-demo", "bb-target")
            .await
            .unwrap()
            .is_some()
            && !c.status_reasons().await.is_empty()
    })
    .await;
    mirror.stop().await;

    let writes = c.west.write_count();
    let metrics = MirrorMetrics::default();
    let restarted = ServiceMirror::new(
        c.west.clone(),
        c.east.clone(),
        &link(true),
        c.plugin.clone(),
    )
    .await
    .unwrap()
    .with_metrics(metrics.clone())
    .spawn();
    // The restarted mirror has synced and decided on bb once it counted a decision.
    eventually("the restarted mirror reconciled bb", || async {
        exposition(|r| metrics.register(r)).contains(r#"service_mirror_plugin_decisions_total{link="target",decision="gateway",outcome="ok"} 1"#)
    })
    .await;
    // A Service exported to nobody, applied after: once the mirror decided
    // on it, it is done with bb (it reconciles one Service at a time, and
    // writes the Link's status between them), and it writes nothing for
    // this one.
    let mut unexported = bb(None);
    unexported.metadata.name = Some("marker".into());
    c.east.apply(&unexported, "kubectl").await.unwrap();
    eventually("the restarted mirror decided on the marker", || async {
        decided(&metrics, "not-exported") >= 1.0
    })
    .await;
    assert_eq!(
        c.west.write_count(),
        writes,
        "a restarted mirror with nothing changed writes nothing"
    );
    restarted.stop().await;

    // The remote Service goes while no mirror runs: the next one collects the orphan.
    c.east.delete::<Service>("mc-demo", "bb").await.unwrap();
    let again = c.start(true).await;
    eventually("orphan collected", || async { c.mirror().await.is_none() }).await;
    eventually("orphan Endpoints collected", || async {
        c.west
            .get::<Endpoints>("mc-demo", "bb-target")
            .await
            .unwrap()
            .is_none()
    })
    .await;
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_change_updates_the_mirror_and_a_new_plugin_re_decides() {
    let c = clusters(false, true).await;
    let mirror = c.start(false).await;
    c.east
        .apply(&bb(Some("remote-discovery")), "kubectl")
        .await
        .unwrap();
    eventually("mirrored", || async { c.mirror().await.is_some() }).await;
    let mut changed = bb(Some("remote-discovery"));
    changed.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].port = 9090;
    c.east.apply(&changed, "kubectl").await.unwrap();
    eventually("port follows the remote", || async {
        c.mirror()
            .await
            .and_then(|s| s.spec)
            .and_then(|s| s.ports)
            .map(|p| p[0].port)
            == Some(9090)
    })
    .await;

    let faulty = PluginBytes {
        origin: "faulty".into(),
        bytes: std::fs::read(strait_default_plugins::fixtures::EXPORT_FAULTY).unwrap(),
        version: None,
    };
    c.plugin.load(&faulty).unwrap();
    eventually("the new plugin's extras on the mirror", || async {
        c.mirror()
            .await
            .and_then(|s| s.metadata.labels)
            .and_then(|l| l.get("team").cloned())
            .as_deref()
            == Some("payments")
    })
    .await;
    mirror.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_spec_change_restarts_the_mirror_and_a_deleted_link_leaves_mirrors() {
    let c = clusters(false, true).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clusters = Arc::new(BTreeMap::from([("target".to_string(), c.east.clone())]));
    let metrics = MirrorMetrics::default();
    let supervisor = tokio::spawn(strait_mirror::supervise_link(
        c.west.clone(),
        "linkerd".to_string(),
        "target".to_string(),
        strait_mirror::connect_embedded(clusters),
        c.plugin.clone(),
        metrics.clone(),
        stopped,
    ));
    // A Service exported by a custom label is not mirrored by the default selector...
    let mut custom = bb(None);
    custom
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("export-me".into(), "yes".into());
    c.east.apply(&custom, "kubectl").await.unwrap();
    eventually("the mirror decided on bb", || async {
        decided(&metrics, "not-exported") >= 1.0
    })
    .await;
    assert!(c.mirror().await.is_none());
    // ...until the Link's selector changes, which restarts the mirror.
    let mut changed = link(false);
    changed.spec.remote_discovery_selector = Some(strait_api::LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "export-me".to_string(),
            "yes".to_string(),
        )])),
        ..Default::default()
    });
    // Applied by the manager that applied the Link, so its old selector labels go.
    c.west.apply(&changed, "test").await.unwrap();
    eventually("mirrored after the spec change", || async {
        c.mirror().await.is_some()
    })
    .await;
    // Deleting the Link stops the mirror but leaves its mirrors. The
    // supervisor takes Link events in order: once it reported the broken
    // Link applied after the deletion, it has stopped the mirror, and
    // nothing runs that could remove the mirror since.
    c.west.delete::<Link>("linkerd", "target").await.unwrap();
    c.west.apply(&broken_link(), "test").await.unwrap();
    eventually("the broken Link reported after the deletion", || async {
        invalid_link_event(&c.west).await.is_some()
    })
    .await;
    c.east.apply(&bb(None), "kubectl").await.unwrap();
    assert!(
        c.mirror().await.is_some(),
        "mirrors stay when the Link goes"
    );
    let _ = stop.send(true);
    supervisor.await.unwrap();
}

#[tokio::test]
async fn embedded_clusters_are_reached_by_target_cluster_name() {
    let east = MemoryStore::new();
    let connect = strait_mirror::connect_embedded(Arc::new(BTreeMap::from([(
        "target".to_string(),
        east.clone(),
    )])));
    east.apply(&namespace("only-in-east"), "test")
        .await
        .unwrap();
    let found = connect(link(false)).await.unwrap();
    let seen: Option<Namespace> = found.get("", "only-in-east").await.unwrap();
    assert!(seen.is_some(), "the connection is to east's store itself");
    let mut elsewhere = link(false);
    elsewhere.spec.target_cluster_name = Some("north".into());
    let err = connect(elsewhere).await.unwrap_err().to_string();
    assert!(
        err.contains(r#"cluster "north""#) && err.contains("known clusters: target"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_the_mirror_cannot_read_is_reported_once_by_field_until_it_is_fixed() {
    let c = clusters(false, true).await;
    c.west.apply(&broken_link(), "test").await.unwrap();
    c.east
        .apply(&bb(Some("remote-discovery")), "kubectl")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clusters = Arc::new(BTreeMap::from([("target".to_string(), c.east.clone())]));
    let supervisor = tokio::spawn(strait_mirror::supervise_link(
        c.west.clone(),
        "linkerd".to_string(),
        "target".to_string(),
        strait_mirror::connect_embedded(clusters),
        c.plugin.clone(),
        strait_mirror::MirrorMetrics::default(),
        stopped,
    ));
    eventually("an InvalidLink event", || async {
        invalid_link_event(&c.west).await.is_some()
    })
    .await;
    let recorded = invalid_link_event(&c.west).await.unwrap();
    assert_eq!(recorded.reason.as_deref(), Some("InvalidLink"));
    assert_eq!(recorded.type_.as_deref(), Some("Warning"));
    assert_eq!(recorded.involved_object.kind.as_deref(), Some("Link"));
    assert_eq!(
        recorded.message.as_deref(),
        Some(
            "link linkerd/target: spec.remoteDiscoverySelector: unknown operator \"Sometimes\" \
             (expected In, NotIn, Exists or DoesNotExist) in matchExpressions[0] (key \"app\")"
        )
    );
    assert!(c.mirror().await.is_none(), "a broken Link mirrors nothing");
    // Fixed, the Link's mirror starts.
    c.west.apply(&link(false), "test").await.unwrap();
    eventually("mirrored once the Link is fixed", || async {
        c.mirror().await.is_some()
    })
    .await;
    let _ = stop.send(true);
    supervisor.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_back_after_a_long_outage_is_caught_up_within_seconds() {
    let c = clusters(false, true).await;
    let switch = strait_store::Reachability::new();
    let remote = strait_store::Reachable::new(c.east.clone(), switch.clone());
    let mirror = ServiceMirror::new(c.west.clone(), remote, &link(false), c.plugin.clone())
        .await
        .unwrap()
        .spawn();
    c.east
        .apply(&bb(Some("remote-discovery")), "kubectl")
        .await
        .unwrap();
    eventually("bb-target in west", || async { c.mirror().await.is_some() }).await;
    let before = c.mirror().await.unwrap().metadata.uid;

    // Long enough for any backoff to reach its cap: the mirror must retry
    // every few seconds, not every half minute, and keep what it mirrored.
    switch.cut();
    c.east.delete::<Service>("mc-demo", "bb").await.unwrap();
    tokio::time::sleep(Duration::from_secs(40)).await;
    assert_eq!(
        c.mirror().await.unwrap().metadata.uid,
        before,
        "the mirror is kept while the target is unreachable"
    );
    switch.restore();
    let back = std::time::Instant::now();
    let deadline = back + Duration::from_secs(8);
    while c.mirror().await.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the deletion made during the outage not caught up within 8s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    mirror.stop().await;
}
