//! Reads and writes: the requests sent, and the API server's errors as the
//! store's.

use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
use serde_json::{Value, json};
use strait_api::link::Link;
use strait_store::{ClusterStore, StoreError};

use super::api_server::mock_cluster;
use super::{failure, not_found, service, service_json};

#[tokio::test]
async fn apply_is_a_forced_server_side_apply_without_server_owned_fields() {
    let (store, mut server) = mock_cluster();
    let mut svc = service("mc-demo", "bb");
    svc.metadata.resource_version = Some("7".into());
    svc.metadata.uid = Some("d2a3".into());
    svc.metadata.managed_fields = Some(vec![ManagedFieldsEntry::default()]);
    svc.status = Some(Default::default());

    let (stored, ()) = tokio::join!(store.apply(&svc, "strait"), async {
        let request = server.next().await;
        assert_eq!(request.method, http::Method::PATCH);
        assert_eq!(request.path, "/api/v1/namespaces/mc-demo/services/bb");
        assert_eq!(request.content_type, "application/apply-patch+yaml");
        assert_eq!(
            request.query.get("fieldManager").map(String::as_str),
            Some("strait")
        );
        assert_eq!(request.query.get("force").map(String::as_str), Some("true"));
        let body = &request.body;
        assert_eq!(body["apiVersion"], "v1");
        assert_eq!(body["kind"], "Service");
        assert_eq!(
            body["metadata"],
            json!({"name": "bb", "namespace": "mc-demo", "labels": {"app": "bb"}, "resourceVersion": "7"}),
            "the resourceVersion as a precondition, no other server-owned fields"
        );
        assert_eq!(body["spec"], json!({"type": "ClusterIP"}));
        assert_eq!(
            body.get("status"),
            None,
            "status goes through its subresource"
        );

        let mut stored = service_json("mc-demo", "bb", "8");
        stored["spec"]["clusterIP"] = json!("10.96.0.10");
        request.respond(200, &stored);
    });
    let stored = stored.expect("applied");
    assert_eq!(stored.metadata.resource_version.as_deref(), Some("8"));
    assert_eq!(
        stored.spec.and_then(|s| s.cluster_ip).as_deref(),
        Some("10.96.0.10"),
        "the stored object is returned"
    );
}

#[tokio::test]
async fn a_stale_resource_version_is_a_conflict_and_none_is_unconditional() {
    let (store, mut server) = mock_cluster();
    let mut svc = service("mc-demo", "bb");
    svc.metadata.resource_version = Some("7".into());
    let message = "Operation cannot be fulfilled on services \"bb\": the object has been \
                   modified; please apply your changes to the latest version and try again";
    let (applied, ()) = tokio::join!(store.apply(&svc, "strait"), async {
        let request = server.next().await;
        assert_eq!(request.body["metadata"]["resourceVersion"], "7");
        request.respond(409, &failure(409, "Conflict", message));
    });
    match applied {
        Err(StoreError::Conflict { what, reason }) => {
            assert_eq!(what, "services \"bb\" in mc-demo");
            assert_eq!(reason, message);
        }
        other => panic!("a stale write must be a conflict, got {other:?}"),
    }
    svc.metadata.resource_version = None;
    let (applied, ()) = tokio::join!(store.apply(&svc, "strait"), async {
        let request = server.next().await;
        assert_eq!(request.body["metadata"].get("resourceVersion"), None);
        request.respond(200, &service_json("mc-demo", "bb", "9"));
    });
    assert!(applied.is_ok(), "{applied:?}");
}

#[tokio::test]
async fn apply_places_objects_by_their_scope() {
    let (store, mut server) = mock_cluster();
    let mut svc = service("", "bb");
    svc.metadata.namespace = None;
    let (applied, ()) = tokio::join!(store.apply(&svc, "strait"), async {
        let request = server.next().await;
        assert_eq!(
            request.path, "/api/v1/namespaces/default/services/bb",
            "the client's default namespace, as kubectl does"
        );
        assert_eq!(request.body["metadata"]["namespace"], "default");
        request.respond(200, &service_json("default", "bb", "1"));
    });
    applied.expect("applied");

    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("mc-demo".into()),
            namespace: Some("stray".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let (applied, ()) = tokio::join!(store.apply(&ns, "strait"), async {
        let request = server.next().await;
        assert_eq!(request.path, "/api/v1/namespaces/mc-demo");
        assert_eq!(request.body["metadata"], json!({"name": "mc-demo"}));
        request.respond(
            200,
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mc-demo"}}),
        );
    });
    applied.expect("applied");
}

#[tokio::test]
async fn apply_of_an_unnamed_object_is_invalid_and_sends_nothing() {
    let (store, mut server) = mock_cluster();
    let mut svc = service("mc-demo", "bb");
    svc.metadata.name = None;
    match store.apply(&svc, "strait").await {
        Err(StoreError::Invalid { what, reason }) => {
            assert_eq!(what, "Service object");
            assert!(reason.contains("metadata.name"), "{reason}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    server
        .expect_silence(std::time::Duration::from_millis(50))
        .await;
}

#[tokio::test]
async fn a_missing_namespace_is_named_as_the_namespace() {
    let (store, mut server) = mock_cluster();
    let svc = service("mc-demo", "bb");
    // As the API server answers, with details; and with the message alone.
    for answer in [
        not_found("namespaces", "mc-demo"),
        failure(404, "NotFound", "namespaces \"mc-demo\" not found"),
    ] {
        let (applied, ()) = tokio::join!(store.apply(&svc, "strait"), async {
            server.next().await.respond(404, &answer);
        });
        match applied {
            Err(StoreError::NotFound { what }) => assert_eq!(what, "namespaces \"mc-demo\""),
            other => panic!("expected NotFound, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn status_is_a_merge_patch_of_the_status_subresource() {
    let (store, mut server) = mock_cluster();
    let status = json!({"mirrorServices": [{
        "controllerName": "linkerd.io/service-mirror",
        "remoteRef": {"name": "bb", "namespace": "mc-demo"},
    }]});
    let (patched, ()) = tokio::join!(
        store.patch_status::<Link>("linkerd", "east", status.clone()),
        async {
            let request = server.next().await;
            assert_eq!(request.method, http::Method::PATCH);
            assert_eq!(
                request.path,
                "/apis/multicluster.linkerd.io/v1alpha3/namespaces/linkerd/links/east/status"
            );
            assert_eq!(request.content_type, "application/merge-patch+json");
            assert_eq!(request.body, json!({"status": status}));
            let link = json!({
                "apiVersion": "multicluster.linkerd.io/v1alpha3",
                "kind": "Link",
                "metadata": {"name": "east", "namespace": "linkerd", "resourceVersion": "4"},
                "spec": {"targetClusterName": "east"},
                "status": status,
            });
            request.respond(200, &link);
        }
    );
    let link = patched.expect("patched");
    let entries = link
        .status
        .and_then(|s| s.mirror_services)
        .unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].remote_ref.name, "bb");
}

#[tokio::test]
async fn delete_removes_the_object_and_a_missing_one_is_not_found() {
    let (store, mut server) = mock_cluster();
    let (deleted, ()) = tokio::join!(store.delete::<Service>("mc-demo", "bb"), async {
        let request = server.next().await;
        assert_eq!(request.method, http::Method::DELETE);
        assert_eq!(request.path, "/api/v1/namespaces/mc-demo/services/bb");
        request.respond(200, &service_json("mc-demo", "bb", "9"));
    });
    deleted.expect("deleted");

    let (deleted, ()) = tokio::join!(store.delete::<Service>("mc-demo", "bb"), async {
        server
            .next()
            .await
            .respond(404, &not_found("services", "bb"));
    });
    match deleted {
        Err(StoreError::NotFound { what }) => assert_eq!(what, "services \"bb\" in mc-demo"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn get_reads_one_object_and_reports_a_malformed_one() {
    let (store, mut server) = mock_cluster();
    let (found, ()) = tokio::join!(store.get::<Service>("mc-demo", "bb"), async {
        let request = server.next().await;
        assert_eq!(request.method, http::Method::GET);
        assert_eq!(request.path, "/api/v1/namespaces/mc-demo/services/bb");
        request.respond(200, &service_json("mc-demo", "bb", "3"));
    });
    let found = found.expect("read").expect("found");
    assert_eq!(found.metadata.name.as_deref(), Some("bb"));

    let (found, ()) = tokio::join!(store.get::<Service>("mc-demo", "bb"), async {
        server
            .next()
            .await
            .respond(404, &not_found("services", "bb"));
    });
    assert_eq!(found.expect("a missing object is no error"), None);

    let mut malformed = service_json("mc-demo", "bb", "3");
    malformed["spec"]["ports"] = json!("eighty");
    let (found, ()) = tokio::join!(store.get::<Service>("mc-demo", "bb"), async {
        server.next().await.respond(200, &malformed);
    });
    match found {
        Err(StoreError::Invalid { what, reason }) => {
            assert_eq!(what, "services \"bb\" in mc-demo");
            assert!(reason.contains("invalid type"), "{reason}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn api_errors_become_the_store_errors_controllers_handle() {
    let (store, mut server) = mock_cluster();
    let svc = service("mc-demo", "bb");
    let what = "services \"bb\" in mc-demo";
    let cases: [(u16, &str, &str); 5] = [
        (
            409,
            "Conflict",
            "Apply failed with 1 conflict: conflict with \"kubectl\"",
        ),
        (
            422,
            "Invalid",
            "Service \"bb\" is invalid: spec.ports[0].port: Invalid value: 0",
        ),
        (400, "BadRequest", "error decoding patch"),
        (500, "InternalError", "etcdserver: request timed out"),
        (
            403,
            "Forbidden",
            "services \"bb\" is forbidden: User cannot patch",
        ),
    ];
    for (code, reason, message) in cases {
        let (applied, ()) = tokio::join!(store.apply(&svc, "strait"), async {
            server
                .next()
                .await
                .respond(code, &failure(code, reason, message));
        });
        let err = applied.expect_err("the API server refused");
        match (code, err) {
            (409, StoreError::Conflict { what: w, reason: r })
            | (422 | 400, StoreError::Invalid { what: w, reason: r }) => {
                assert_eq!(w, what);
                assert_eq!(r, message);
            }
            (500 | 403, StoreError::Unavailable { reason: r }) => {
                assert!(r.contains(what) && r.contains(message), "{r}");
            }
            (code, other) => panic!("{code} became {other:?}"),
        }
    }

    // A connection lost mid-request.
    let (applied, ()) = tokio::join!(store.apply(&svc, "strait"), async {
        drop(server.next().await);
    });
    assert!(
        matches!(applied, Err(StoreError::Unavailable { .. })),
        "{applied:?}"
    );
}

#[tokio::test]
async fn a_response_that_is_not_the_object_is_invalid() {
    let (store, mut server) = mock_cluster();
    let svc = service("mc-demo", "bb");
    let (applied, ()) = tokio::join!(store.apply(&svc, "strait"), async {
        server
            .next()
            .await
            .respond(200, &Value::String("surprise".into()));
    });
    assert!(
        matches!(&applied, Err(StoreError::Invalid { what, .. }) if what == "services \"bb\" in mc-demo"),
        "{applied:?}"
    );
}
