//! `Get` and `GetProfile` asked by a multicluster gateway, over a real
//! socket: a gateway is told only of the Services its cluster exports
//! through it. The attack is a linked cluster's client naming, through the
//! gateway, a Service that was never exported (or an address); the
//! control plane must refuse it with `PERMISSION_DENIED`, and end a
//! gateway's stream once its Service is withdrawn from export.

mod support;

use linkerd2_proxy_api::destination::GetDestination;
use serde_json::{Value, json};
use strait_test_support::{objects, within};
use support::*;
use tonic::Code;

/// `name` on port 8080 at `cluster_ip`, exported through the gateway or
/// not.
fn exported_service(name: &str, cluster_ip: &str, exported: bool) -> Value {
    let service = objects::service(NS, name)
        .cluster_ip(cluster_ip)
        .port("http", 8080, 8080);
    if exported {
        service.label("mirror.linkerd.io/exported", "true")
    } else {
        service
    }
    .build()
}

/// A gateway's request for `path`.
fn gateway_request(path: &str) -> GetDestination {
    GetDestination {
        context_token: json!({"ns": MC_NS, "pod": "linkerd-gateway-1", "gateway": true})
            .to_string(),
        ..request(path)
    }
}

async fn web(mesh: &Mesh, exported: bool) {
    apply(&mesh.west, exported_service("web", "10.96.0.30", exported));
    apply(&mesh.west, pod("web-1", "web", true));
    apply(
        &mesh.west,
        slice("web-slice", "web", 8080, &[("10.244.0.5", "web-1", true)]),
    );
    settle(&mesh.index, "web", 8080, 1).await;
}

const WEB: &str = "web.mc-demo.svc.cluster.local:8080";

#[tokio::test]
async fn a_gateway_is_refused_a_service_that_is_not_exported() {
    let mut mesh = start().await;
    web(&mesh, false).await;
    let refused = mesh
        .client
        .get(gateway_request(WEB))
        .await
        .expect_err("a service that is not exported is refused");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("service mc-demo/web is not exported"),
        "{refused:?}"
    );
    let refused = mesh
        .client
        .get_profile(gateway_request(WEB))
        .await
        .expect_err("and so is its profile");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    // A Service that does not exist reads the same: a gateway's clients
    // learn nothing about what is not exported.
    let refused = mesh
        .client
        .get(gateway_request("nothing.mc-demo.svc.cluster.local:8080"))
        .await
        .expect_err("a missing service is refused");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    // Any other proxy still resolves it.
    let mut updates = get(&mut mesh, WEB).await;
    assert_eq!(added(&next(&mut updates).await).0.len(), 1);
}

#[tokio::test]
async fn a_gateway_is_refused_addresses() {
    let mut mesh = start().await;
    web(&mesh, true).await;
    for path in ["10.244.0.5:8080", "10.96.0.30:8080"] {
        let refused = mesh
            .client
            .get(gateway_request(path))
            .await
            .expect_err("an address is refused");
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "{path}: {refused:?}"
        );
    }
    let refused = mesh
        .client
        .get_profile(gateway_request("10.244.0.5:8080"))
        .await
        .expect_err("an address's profile is refused");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
}

#[tokio::test]
async fn a_gateway_stream_ends_when_its_service_is_withdrawn() {
    let mut mesh = start().await;
    web(&mesh, true).await;
    let mut updates = mesh
        .client
        .get(gateway_request(WEB))
        .await
        .expect("an exported service resolves")
        .into_inner();
    let (addrs, _) = added(&next(&mut updates).await);
    assert_eq!(addrs.len(), 1);

    apply(&mesh.west, exported_service("web", "10.96.0.30", false));
    let ended = within(PATIENCE, "the refusal", updates.message()).await;
    let status = ended.expect_err("the stream ends with a refusal");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
}

/// StatefulSet `web`'s Pods web-0 and web-1 under headless Service `web`,
/// exported through the gateway or not.
async fn headless_web(mesh: &Mesh, exported: bool) {
    apply(&mesh.west, exported_service("web", "None", exported));
    apply(&mesh.west, pod("web-0", "web", true));
    apply(&mesh.west, pod("web-1", "web", true));
    let mut members = slice(
        "web-slice",
        "web",
        8080,
        &[("10.244.0.5", "web-0", true), ("10.244.0.6", "web-1", true)],
    );
    members["endpoints"][0]["hostname"] = json!("web-0");
    members["endpoints"][1]["hostname"] = json!("web-1");
    apply(&mesh.west, members);
    settle(&mesh.index, "web", 8080, 2).await;
}

const WEB_0: &str = "web-0.web.mc-demo.svc.cluster.local:8080";

#[tokio::test]
async fn a_gateway_forwards_a_pods_name_under_an_exported_headless_service() {
    let mut mesh = start().await;
    headless_web(&mesh, true).await;
    let mut updates = mesh
        .client
        .get(gateway_request(WEB_0))
        .await
        .expect("a Pod's name under an exported Service resolves")
        .into_inner();
    let (addrs, _) = added(&next(&mut updates).await);
    assert_eq!(
        addrs.keys().collect::<Vec<_>>(),
        vec!["10.244.0.5:8080"],
        "web-0 alone"
    );
    let unknown = mesh
        .client
        .get(gateway_request("web-9.web.mc-demo.svc.cluster.local:8080"))
        .await
        .expect_err("a hostname no endpoint has is refused");
    assert_eq!(unknown.code(), Code::InvalidArgument, "{unknown:?}");
}

#[tokio::test]
async fn a_gateway_is_refused_a_pods_name_under_a_service_not_exported() {
    let mut mesh = start().await;
    headless_web(&mesh, false).await;
    let refused = mesh
        .client
        .get(gateway_request(WEB_0))
        .await
        .expect_err("not exported");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let refused = mesh
        .client
        .get_profile(gateway_request(WEB_0))
        .await
        .expect_err("nor its profile");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    // A hostname no Pod has reads the same: nothing is told of a Service
    // not exported.
    let refused = mesh
        .client
        .get(gateway_request("web-9.web.mc-demo.svc.cluster.local:8080"))
        .await
        .expect_err("not exported");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
}
