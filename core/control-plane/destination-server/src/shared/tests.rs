use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_destination::ClusterConfig;

use super::SharedClusters;

fn service(name: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            namespace: Some("mc-demo".into()),
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                port: 80,
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

#[tokio::test]
async fn only_changes_that_move_the_index_wake_subscribers() {
    let shared = SharedClusters::new();
    let mut changes = shared.subscribe();
    shared.insert_cluster("west", ClusterConfig::default());
    assert_eq!(
        shared.update("west", |c| c.apply_service(&service("bb"))),
        Some(())
    );
    assert!(changes.has_changed().unwrap());
    let generation = *changes.borrow_and_update();
    assert_eq!(generation, shared.read(|c| c.generation()));
    assert!(generation > 0);

    // The same Service again changes nothing.
    shared.update("west", |c| c.apply_service(&service("bb")));
    assert!(!changes.has_changed().unwrap());

    // An unknown cluster is reported, not created.
    assert_eq!(
        shared.update("east", |c| c.apply_service(&service("bb"))),
        None
    );
    assert!(shared.read(|c| c.cluster("east").is_none()));
}

#[test]
fn removals_are_not_kept_once_applied() {
    let shared = SharedClusters::new();
    shared.insert_cluster("west", ClusterConfig::default());
    shared.update("west", |c| c.apply_service(&service("bb")));
    shared.update("west", |c| c.delete_service("mc-demo", "bb"));
    assert!(shared.read(|c| c.changed_since(0)).is_empty());
}
