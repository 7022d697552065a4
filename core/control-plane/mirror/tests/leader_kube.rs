//! Leader election against a scripted Kubernetes API server: the requests
//! a candidate sends for the Lease, and a write the API server refuses as
//! stale (409) is not leadership.

use serde_json::{Value, json};
use strait_mirror::leader::{Attempt, Elector, LEASE_FIELD_MANAGER, LeaseConfig};
use strait_store::StoreError;
use strait_store_kube::testing::{ApiServer, mock_cluster};

const PATH: &str =
    "/apis/coordination.k8s.io/v1/namespaces/linkerd/leases/service-mirror-write-east";

fn lease(rv: &str, holder: &str, transitions: i32) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "service-mirror-write-east", "namespace": "linkerd", "resourceVersion": rv},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30, "leaseTransitions": transitions},
    })
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

/// Answers the read of the Lease with `answer`.
async fn read(server: &mut ApiServer, code: u16, answer: Value) {
    let request = server.next().await;
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(request.path, PATH);
    request.respond(code, &answer);
}

#[tokio::test]
async fn a_write_the_api_server_refuses_as_stale_is_not_leadership() {
    let (store, mut server) = mock_cluster();
    let config = LeaseConfig::for_link("linkerd", "east", "pod-a");
    let mut elector = Elector::new(store, config).expect("a safe configuration");

    // The Lease is free; another candidate writes it first, so the API
    // server refuses this candidate's write of the version it read.
    let (attempt, ()) = tokio::join!(elector.try_acquire_or_renew(), async {
        read(&mut server, 200, lease("41", "", 3)).await;
        let write = server.next().await;
        assert_eq!(write.method, http::Method::PATCH);
        assert_eq!(write.path, PATH);
        assert_eq!(write.content_type, "application/apply-patch+yaml");
        assert_eq!(
            write.query.get("fieldManager").map(String::as_str),
            Some(LEASE_FIELD_MANAGER)
        );
        let body = &write.body;
        assert_eq!(
            body["metadata"]["resourceVersion"], "41",
            "the read version is the precondition"
        );
        assert_eq!(body["spec"]["holderIdentity"], "pod-a");
        assert_eq!(body["spec"]["leaseDurationSeconds"], 30);
        assert_eq!(body["spec"]["leaseTransitions"], 4);
        assert!(body["spec"]["renewTime"].is_string() && body["spec"]["acquireTime"].is_string());
        write.respond(
            409,
            &status(
                409,
                "Conflict",
                "Operation cannot be fulfilled on leases.coordination.k8s.io \"service-mirror-write-east\": \
                 the object has been modified; please apply your changes to the latest version and try again",
            ),
        );
    });
    assert!(
        matches!(attempt, Err(StoreError::Conflict { .. })),
        "{attempt:?}"
    );
    assert!(!elector.is_leader(), "a refused write is not leadership");

    // The winner holds it now, and its lease has not expired.
    let (attempt, ()) = tokio::join!(elector.try_acquire_or_renew(), async {
        read(&mut server, 200, lease("42", "pod-b", 4)).await;
    });
    assert_eq!(attempt.expect("read"), Attempt::HeldBy("pod-b".into()));
    assert!(!elector.is_leader());
    server
        .expect_silence(std::time::Duration::from_millis(100))
        .await;
}

#[tokio::test]
async fn an_absent_lease_is_created_without_a_holder_then_acquired_conditionally() {
    let (store, mut server) = mock_cluster();
    let mut elector =
        Elector::new(store, LeaseConfig::for_link("linkerd", "east", "pod-a")).expect("config");
    let (attempt, ()) = tokio::join!(elector.try_acquire_or_renew(), async {
        read(
            &mut server,
            404,
            status(
                404,
                "NotFound",
                "leases.coordination.k8s.io \"service-mirror-write-east\" not found",
            ),
        )
        .await;
        let create = server.next().await;
        assert_eq!(create.method, http::Method::PATCH);
        assert_eq!(
            create.query.get("fieldManager").map(String::as_str),
            Some("strait-leader-election-create")
        );
        assert_eq!(create.body.get("spec"), None, "creating sets no holder");
        assert_eq!(create.body["metadata"].get("resourceVersion"), None);
        create.respond(201, &lease("50", "", 0));
        read(&mut server, 200, lease("50", "", 0)).await;
        let write = server.next().await;
        assert_eq!(write.body["metadata"]["resourceVersion"], "50");
        assert_eq!(write.body["spec"]["holderIdentity"], "pod-a");
        write.respond(200, &lease("51", "pod-a", 1));
    });
    assert_eq!(attempt.expect("acquired"), Attempt::Leading);
    assert!(elector.is_leader());
}

#[tokio::test]
async fn a_lease_without_a_version_is_never_written_unconditionally() {
    let (store, mut server) = mock_cluster();
    let mut elector =
        Elector::new(store, LeaseConfig::for_link("linkerd", "east", "pod-a")).expect("config");
    let mut unversioned = lease("1", "", 0);
    unversioned["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("resourceVersion");
    let (attempt, ()) = tokio::join!(elector.try_acquire_or_renew(), async {
        read(&mut server, 200, unversioned).await;
    });
    assert!(
        matches!(attempt, Err(StoreError::Invalid { .. })),
        "{attempt:?}"
    );
    assert!(!elector.is_leader());
    server
        .expect_silence(std::time::Duration::from_millis(100))
        .await;
}
