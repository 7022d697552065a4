//! Federated Services between embedded clusters: west links to east and to
//! north; members in each (west's own included) join `bb-federated` in
//! west, leave it as they lose the label, go away or are unlinked, and a
//! member whose ports differ is reported.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event as K8sEvent, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels;
use strait_api::link::{ConditionStatus, Link, LinkSpec, reason};
use strait_store::{ClusterStore, Event, MemoryStore, WatchParams};
use strait_test_support::eventually;
use strait_test_support::k8s::{meta, namespace};
use strait_test_support::plugins::{builtin_export, host};
use tokio::sync::watch;

fn bb(member: bool, port: (&str, i32)) -> Service {
    let mut labels_map = BTreeMap::from([("app".to_string(), "bb".to_string())]);
    if member {
        labels_map.insert(labels::FEDERATED.into(), labels::FEDERATED_MEMBER.into());
    }
    Service {
        metadata: ObjectMeta {
            labels: Some(labels_map),
            ..meta(Some("mc-demo"), "bb")
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                name: Some(port.0.into()),
                port: port.1,
                target_port: Some(strait_api::IntOrString::Int(port.1)),
                ..Default::default()
            }]),
            selector: Some(BTreeMap::from([("app".to_string(), "bb".to_string())])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn link(cluster: &str) -> Link {
    let mut link = Link::new(
        cluster,
        LinkSpec {
            target_cluster_name: Some(cluster.into()),
            target_cluster_domain: Some("cluster.local".into()),
            target_cluster_linkerd_namespace: Some("linkerd".into()),
            cluster_credentials_secret: Some(format!("cluster-credentials-{cluster}")),
            selector: Some(labels::default_gateway_selector()),
            remote_discovery_selector: Some(labels::default_remote_discovery_selector()),
            federated_service_selector: Some(labels::default_federated_service_selector()),
            ..Default::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    link
}

struct Mesh {
    west: MemoryStore,
    east: MemoryStore,
    north: MemoryStore,
    stop: watch::Sender<bool>,
    supervisors: Vec<tokio::task::JoinHandle<()>>,
}

async fn mesh() -> Mesh {
    let west = MemoryStore::with_service_range(std::net::Ipv4Addr::new(10, 112, 0, 0), 12);
    let (east, north) = (MemoryStore::new(), MemoryStore::new());
    for store in [&west, &east, &north] {
        store.apply(&namespace("mc-demo"), "test").await.unwrap();
    }
    west.apply(&namespace("linkerd"), "test").await.unwrap();
    let clusters = Arc::new(BTreeMap::from([
        ("east".to_string(), east.clone()),
        ("north".to_string(), north.clone()),
    ]));
    let plugin = builtin_export(&host());
    let (stop, stopped) = watch::channel(false);
    let mut supervisors = Vec::new();
    for cluster in ["east", "north"] {
        west.apply(&link(cluster), "test").await.unwrap();
        supervisors.push(tokio::spawn(strait_mirror::supervise_link(
            west.clone(),
            "linkerd".to_string(),
            cluster.to_string(),
            strait_mirror::connect_embedded(clusters.clone()),
            plugin.clone(),
            strait_mirror::MirrorMetrics::default(),
            stopped.clone(),
        )));
    }
    Mesh {
        west,
        east,
        north,
        stop,
        supervisors,
    }
}

impl Mesh {
    async fn federated(&self) -> Option<Service> {
        self.west.get("mc-demo", "bb-federated").await.unwrap()
    }

    /// The members as the federated Service lists them: (local, remote).
    async fn members(&self) -> Option<(Option<String>, Option<String>)> {
        let federated = self.federated().await?;
        let annotations = federated.metadata.annotations.unwrap_or_default();
        Some((
            annotations.get(labels::LOCAL_DISCOVERY).cloned(),
            annotations.get(labels::REMOTE_DISCOVERY).cloned(),
        ))
    }

    async fn federated_status(&self, link: &str) -> Vec<(String, String, ConditionStatus)> {
        let link: Link = self.west.get("linkerd", link).await.unwrap().unwrap();
        link.status
            .and_then(|s| s.federated_services)
            .unwrap_or_default()
            .into_iter()
            .flat_map(|e| {
                let name = e.remote_ref.name.clone();
                e.conditions
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |c| (name.clone(), c.reason, c.status))
            })
            .collect()
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for supervisor in self.supervisors {
            supervisor.await.unwrap();
        }
    }
}

fn listed(remote: &str) -> Option<String> {
    Some(remote.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_every_cluster_join_and_leave_one_federated_service() {
    let m = mesh().await;
    m.east
        .apply(&bb(true, ("http", 8080)), "kubectl")
        .await
        .unwrap();
    eventually("east's bb joins bb-federated in west", async || {
        m.members().await == Some((None, listed("bb@east")))
    })
    .await;
    let federated = m.federated().await.unwrap();
    let ports = federated.spec.unwrap().ports.unwrap();
    assert_eq!(ports[0].port, 8080, "the ports of its first member");
    assert!(
        m.west
            .get::<Service>("mc-demo", "bb-east")
            .await
            .unwrap()
            .is_none(),
        "a federated member is not mirrored unless exported too"
    );

    m.north
        .apply(&bb(true, ("http", 8080)), "kubectl")
        .await
        .unwrap();
    m.west
        .apply(&bb(true, ("http", 8080)), "kubectl")
        .await
        .unwrap();
    eventually("north's and west's own bb join too", async || {
        match m.members().await {
            Some((Some(local), Some(remote))) => {
                let mut remote: Vec<&str> = remote.split(',').collect();
                remote.sort();
                local == "bb" && remote == ["bb@east", "bb@north"]
            }
            _ => false,
        }
    })
    .await;
    eventually("each Link reports its member", async || {
        m.federated_status("east").await
            == vec![("bb".into(), reason::MIRRORED.into(), ConditionStatus::True)]
    })
    .await;

    // The label removed in east, the Service deleted in north: both leave.
    m.east
        .apply(&bb(false, ("http", 8080)), "kubectl")
        .await
        .unwrap();
    m.north.delete::<Service>("mc-demo", "bb").await.unwrap();
    eventually("east's and north's bb leave", async || {
        m.members().await == Some((Some("bb".into()), None))
    })
    .await;
    assert!(m.federated_status("east").await.is_empty());

    // The last member gone, the federated Service goes.
    m.west
        .apply(&bb(false, ("http", 8080)), "kubectl")
        .await
        .unwrap();
    eventually("bb-federated is removed with its last member", async || {
        m.federated().await.is_none()
    })
    .await;
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_ports_differ_is_reported_and_an_unlinked_cluster_leaves() {
    let m = mesh().await;
    m.west
        .apply(&bb(true, ("http", 8080)), "kubectl")
        .await
        .unwrap();
    m.east
        .apply(&bb(true, ("web", 9090)), "kubectl")
        .await
        .unwrap();
    eventually("both members are listed", async || {
        m.members().await == Some((Some("bb".into()), listed("bb@east")))
    })
    .await;
    let federated = m.federated().await.unwrap();
    let ports = federated.spec.unwrap().ports.unwrap();
    assert_eq!(ports[0].port, 8080, "the local member gives the ports");
    eventually("east's Link reports the conflict", async || {
        m.federated_status("east").await
            == vec![(
                "bb".into(),
                reason::PORT_CONFLICT.into(),
                ConditionStatus::True,
            )]
    })
    .await;
    let events = match m.west.watch::<K8sEvent>(WatchParams::all()).next().await {
        Some(Ok(Event::Reset(events))) => events,
        other => panic!("cannot list events: {other:?}"),
    };
    let conflict = events
        .iter()
        .find(|e| e.reason.as_deref() == Some(reason::PORT_CONFLICT))
        .expect("a Warning Event on the federated service");
    assert_eq!(conflict.type_.as_deref(), Some("Warning"));
    assert_eq!(
        conflict.involved_object.name.as_deref(),
        Some("bb-federated")
    );
    let message = conflict.message.clone().unwrap_or_default();
    assert!(
        message.contains("bb@east") && message.contains("8080"),
        "{message}"
    );

    // Unlinking east takes its member out; west's own stays.
    m.west.delete::<Link>("linkerd", "east").await.unwrap();
    eventually("east leaves with its Link", async || {
        m.members().await == Some((Some("bb".into()), None))
    })
    .await;
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_the_mirror_did_not_make_is_never_taken_over() {
    let m = mesh().await;
    let mut theirs = bb(false, ("admin", 9990));
    theirs.metadata.name = Some("bb-federated".into());
    m.west.apply(&theirs, "kubectl").await.unwrap();
    m.east
        .apply(&bb(true, ("http", 8080)), "kubectl")
        .await
        .unwrap();
    eventually("east's Link reports the name taken", async || {
        m.federated_status("east").await
            == vec![("bb".into(), reason::ERROR.into(), ConditionStatus::False)]
    })
    .await;
    let kept = m.federated().await.unwrap();
    assert_eq!(kept.metadata.annotations, None, "{kept:?}");
    assert_eq!(kept.spec.unwrap().ports.unwrap()[0].port, 9990);
    m.stop().await;
}
