//! `Get` and `GetProfile` for the local cluster's Services, over a real
//! socket.

mod support;

use std::time::Duration;

use linkerd2_proxy_api::destination::GetDestination;
use serde_json::json;
use support::*;
use tonic::Code;

const BB_1: &str = "10.244.1.5";
const BB_2: &str = "10.244.1.6";

/// `bb` with its ClusterIP, meshed `bb-1` and unmeshed `bb-2`.
fn bb(mesh: &Mesh) {
    apply(&mesh.west, service("bb", "10.96.0.10", 80, 8080));
    apply(&mesh.west, pod("bb-1", "bb", true));
    apply(&mesh.west, pod("bb-2", "legacy", false));
}

/// Checks the two endpoints of `bb` exactly.
fn assert_bb_endpoints(update: &linkerd2_proxy_api::destination::Update) {
    let (addrs, set_labels) = added(update);
    assert_eq!(set_labels, labels(&[("namespace", NS), ("service", "bb")]));
    assert_eq!(
        addrs.keys().cloned().collect::<Vec<_>>(),
        [format!("{BB_1}:8080"), format!("{BB_2}:8080")]
    );
    let meshed = &addrs[&format!("{BB_1}:8080")];
    assert_eq!(meshed.weight, 10_000);
    assert_eq!(
        tls_name(meshed).as_deref(),
        Some("bb.mc-demo.serviceaccount.identity.linkerd.cluster.local")
    );
    assert!(is_h2(meshed));
    assert_eq!(
        meshed.metric_labels,
        labels(&[("pod", "bb-1"), ("namespace", NS), ("serviceaccount", "bb")])
    );
    assert_eq!(meshed.authority_override, None);
    let plain = &addrs[&format!("{BB_2}:8080")];
    assert_eq!(plain.weight, 10_000);
    assert_eq!(tls_name(plain), None);
    assert!(plain.protocol_hint.is_none());
    assert_eq!(
        plain.metric_labels,
        labels(&[
            ("pod", "bb-2"),
            ("namespace", NS),
            ("serviceaccount", "legacy")
        ])
    );
}

#[tokio::test]
async fn endpoint_slices_resolve_with_the_identities_of_meshed_pods() {
    let mut mesh = start().await;
    bb(&mesh);
    apply(
        &mesh.west,
        slice(
            "bb-abc",
            "bb",
            8080,
            &[(BB_1, "bb-1", true), (BB_2, "bb-2", true)],
        ),
    );
    settle(&mesh.index, "bb", 80, 2).await;

    let mut updates = get(&mut mesh, "bb.mc-demo.svc.cluster.local:80").await;
    assert_bb_endpoints(&next(&mut updates).await);
}

#[tokio::test]
async fn endpoints_objects_resolve_when_there_are_no_slices() {
    let mut mesh = start().await;
    bb(&mesh);
    apply(
        &mesh.west,
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "bb", "namespace": NS},
            "subsets": [{
                "addresses": [
                    {"ip": BB_1, "targetRef": {"kind": "Pod", "name": "bb-1", "namespace": NS}},
                    {"ip": BB_2, "targetRef": {"kind": "Pod", "name": "bb-2", "namespace": NS}}
                ],
                "notReadyAddresses": [
                    {"ip": "10.244.1.7", "targetRef": {"kind": "Pod", "name": "bb-3", "namespace": NS}}
                ],
                "ports": [{"name": "http", "port": 8080}]
            }]
        }),
    );
    settle(&mesh.index, "bb", 80, 2).await;

    let mut updates = get(&mut mesh, "bb.mc-demo.svc.cluster.local:80").await;
    assert_bb_endpoints(&next(&mut updates).await);
}

#[tokio::test]
async fn every_name_form_and_the_cluster_ip_resolve_alike() {
    let mut mesh = start().await;
    bb(&mesh);
    apply(
        &mesh.west,
        slice("bb-abc", "bb", 8080, &[(BB_1, "bb-1", true)]),
    );
    settle(&mesh.index, "bb", 80, 1).await;

    let json_token = json!({"ns": NS, "nodeName": "node-1", "pod": "client-1"}).to_string();
    let forms = [
        ("bb:80", json_token.clone()),
        ("bb:80", "ns:mc-demo".to_string()),
        ("bb.mc-demo:80", String::new()),
        ("bb.mc-demo.svc:80", String::new()),
        ("bb.mc-demo.svc.cluster.local:80", String::new()),
        ("bb.mc-demo.svc.cluster.local.:80", String::new()),
        ("10.96.0.10:80", String::new()),
    ];
    for (path, context_token) in forms {
        let request = GetDestination {
            scheme: "k8s".into(),
            path: path.into(),
            context_token: context_token.clone(),
        };
        let mut updates = mesh.client.get(request).await.expect(path).into_inner();
        let first = next(&mut updates).await;
        assert_eq!(
            describe(&first),
            format!("+{BB_1}:8080"),
            "{path} with {context_token:?}"
        );
        let (_, set_labels) = added(&first);
        assert_eq!(
            set_labels,
            labels(&[("namespace", NS), ("service", "bb")]),
            "{path}"
        );
    }
}

#[tokio::test]
async fn pods_becoming_ready_unready_and_deleted_update_the_stream() {
    let mut mesh = start().await;
    bb(&mesh);
    apply(
        &mesh.west,
        slice(
            "bb-abc",
            "bb",
            8080,
            &[(BB_1, "bb-1", true), (BB_2, "bb-2", false)],
        ),
    );
    settle(&mesh.index, "bb", 80, 1).await;
    let mut updates = get(&mut mesh, "bb.mc-demo:80").await;
    assert_eq!(describe(&next(&mut updates).await), format!("+{BB_1}:8080"));

    // bb-2 becomes ready.
    apply(
        &mesh.west,
        slice(
            "bb-abc",
            "bb",
            8080,
            &[(BB_1, "bb-1", true), (BB_2, "bb-2", true)],
        ),
    );
    let ready = next(&mut updates).await;
    assert_eq!(describe(&ready), format!("+{BB_2}:8080"));
    let (addrs, _) = added(&ready);
    assert_eq!(tls_name(&addrs[&format!("{BB_2}:8080")]), None);

    // bb-1 becomes unready.
    apply(
        &mesh.west,
        slice(
            "bb-abc",
            "bb",
            8080,
            &[(BB_1, "bb-1", false), (BB_2, "bb-2", true)],
        ),
    );
    assert_eq!(describe(&next(&mut updates).await), format!("-{BB_1}:8080"));

    // bb-2 is deleted: the pod goes, then its endpoint. Without its pod the
    // endpoint is announced again without labels first.
    delete_pod(&mesh.west, "bb-2").await;
    let unknown = next(&mut updates).await;
    assert_eq!(describe(&unknown), format!("+{BB_2}:8080"));
    let (addrs, _) = added(&unknown);
    assert!(addrs[&format!("{BB_2}:8080")].metric_labels.is_empty());
    apply(
        &mesh.west,
        slice("bb-abc", "bb", 8080, &[(BB_1, "bb-1", false)]),
    );
    assert_eq!(describe(&next(&mut updates).await), "none:true");

    // The Service itself is deleted.
    delete_service(&mesh.west, "bb").await;
    assert_eq!(describe(&next(&mut updates).await), "none:false");
}

#[tokio::test]
async fn an_unknown_service_resolves_once_it_appears() {
    let mut mesh = start().await;
    let mut updates = get(&mut mesh, "web.mc-demo.svc.cluster.local:80").await;
    assert_eq!(describe(&next(&mut updates).await), "none:false");

    apply(&mesh.west, service("web", "10.96.0.11", 80, 8080));
    assert_eq!(describe(&next(&mut updates).await), "none:true");

    apply(&mesh.west, pod("web-1", "web", true));
    apply(
        &mesh.west,
        slice("web-xyz", "web", 8080, &[("10.244.2.9", "web-1", true)]),
    );
    let resolved = next(&mut updates).await;
    assert_eq!(describe(&resolved), "+10.244.2.9:8080");
    let (addrs, set_labels) = added(&resolved);
    assert_eq!(set_labels, labels(&[("namespace", NS), ("service", "web")]));
    assert_eq!(
        tls_name(&addrs["10.244.2.9:8080"]).as_deref(),
        Some("web.mc-demo.serviceaccount.identity.linkerd.cluster.local")
    );
}

#[tokio::test]
async fn a_bad_authority_is_refused_with_its_name() {
    let mut mesh = start().await;
    for path in [
        "bb.mc-demo.svc.other.domain:80",
        "bb.mc-demo:99999",
        "bb_bad.mc-demo:80",
    ] {
        let status = mesh.client.get(request(path)).await.expect_err(path);
        assert_eq!(status.code(), Code::InvalidArgument, "{path}: {status:?}");
        assert!(
            status.message().contains(path),
            "{path}: {}",
            status.message()
        );
        let status = mesh
            .client
            .get_profile(request(path))
            .await
            .expect_err(path);
        assert_eq!(status.code(), Code::InvalidArgument, "{path}: {status:?}");
    }
    // A bare name needs the asking pod's namespace.
    let bare = GetDestination {
        scheme: "k8s".into(),
        path: "bb:80".into(),
        context_token: String::new(),
    };
    let status = mesh.client.get(bare).await.expect_err("bare name");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("bb:80"), "{}", status.message());
}

#[tokio::test]
async fn an_ip_that_is_no_cluster_ip_resolves_to_itself() {
    let mut mesh = start().await;
    let mut updates = get(&mut mesh, "10.244.9.9:8080").await;
    let first = next(&mut updates).await;
    assert_eq!(describe(&first), "+10.244.9.9:8080");
    let (addrs, _) = added(&first);
    let addr = &addrs["10.244.9.9:8080"];
    assert_eq!(addr.weight, 10_000);
    assert_eq!(tls_name(addr), None);
}

#[tokio::test]
async fn get_profile_is_linkerds_default_and_stays_open() {
    let mut mesh = start().await;
    apply(&mesh.west, service("bb", "10.96.0.10", 80, 8080));
    settle(&mesh.index, "bb", 80, 0).await;

    for path in ["bb.mc-demo:80", "10.96.0.10:80"] {
        let mut profiles = mesh
            .client
            .get_profile(request(path))
            .await
            .expect(path)
            .into_inner();
        let profile = tokio::time::timeout(PATIENCE, profiles.message())
            .await
            .expect("a profile")
            .expect("no error")
            .expect("open");
        assert_eq!(
            profile.fully_qualified_name, "bb.mc-demo.svc.cluster.local",
            "{path}"
        );
        assert!(!profile.opaque_protocol);
        assert!(profile.routes.is_empty());
        assert!(profile.dst_overrides.is_empty());
        assert_eq!(profile.endpoint, None);
        let budget = profile.retry_budget.expect("a retry budget");
        assert_eq!(budget.retry_ratio, 0.2);
        assert_eq!(budget.min_retries_per_second, 10);
        let ttl = budget.ttl.expect("a ttl");
        assert_eq!((ttl.seconds, ttl.nanos), (10, 0));
        // Still open: no second message and no end while the index moves.
        apply(&mesh.west, pod("other", "other", false));
        let more = tokio::time::timeout(Duration::from_millis(300), profiles.message()).await;
        assert!(
            more.is_err(),
            "{path}: the profile stream said more: {more:?}"
        );
    }

    let mut profiles = mesh
        .client
        .get_profile(request("10.244.9.9:8080"))
        .await
        .expect("ip profile")
        .into_inner();
    let profile = profiles.message().await.expect("no error").expect("open");
    assert_eq!(profile.fully_qualified_name, "");
    let endpoint = profile.endpoint.expect("the endpoint of an IP");
    assert_eq!(socket(&endpoint), "10.244.9.9:8080");
    assert_eq!(endpoint.weight, 10_000);
    assert_eq!(tls_name(&endpoint), None);
}

#[tokio::test]
async fn a_stream_ends_with_its_client() {
    let mut mesh = start().await;
    apply(&mesh.west, service("bb", "10.96.0.10", 80, 8080));
    settle(&mesh.index, "bb", 80, 0).await;
    let baseline = mesh.index.subscriber_count();

    let mut updates = get(&mut mesh, "bb.mc-demo:80").await;
    assert_eq!(describe(&next(&mut updates).await), "none:true");
    let mut profiles = mesh
        .client
        .get_profile(request("bb.mc-demo:80"))
        .await
        .expect("profile")
        .into_inner();
    profiles.message().await.expect("no error").expect("open");
    assert_eq!(mesh.index.subscriber_count(), baseline + 2);

    drop(updates);
    drop(profiles);
    let released = tokio::time::timeout(PATIENCE, async {
        while mesh.index.subscriber_count() != baseline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(released.is_ok(), "a stream outlived its client");
}

/// A Service port its `config.linkerd.io/opaque-ports` lists: its meshed
/// endpoint is to be reached through the proxy's inbound port (Linkerd's
/// opaque transport), its unmeshed one directly, and its profile is
/// opaque.
#[tokio::test]
async fn an_opaque_port_hints_opaque_transport_for_meshed_endpoints() {
    let mut mesh = start().await;
    let mut bb_service = service("bb", "10.96.0.10", 80, 8080);
    bb_service["metadata"]["annotations"] = json!({"config.linkerd.io/opaque-ports": "80"});
    apply(&mesh.west, bb_service);
    apply(&mesh.west, pod("bb-1", "bb", true));
    apply(&mesh.west, pod("bb-2", "legacy", false));
    apply(
        &mesh.west,
        slice(
            "bb-abc",
            "bb",
            8080,
            &[(BB_1, "bb-1", true), (BB_2, "bb-2", true)],
        ),
    );
    settle(&mesh.index, "bb", 80, 2).await;

    let mut updates = get(&mut mesh, "bb.mc-demo.svc.cluster.local:80").await;
    let (addrs, _) = added(&next(&mut updates).await);
    let meshed = &addrs[&format!("{BB_1}:8080")];
    assert!(is_h2(meshed));
    let transport = meshed
        .protocol_hint
        .as_ref()
        .and_then(|hint| hint.opaque_transport.as_ref())
        .map(|transport| transport.inbound_port);
    assert_eq!(transport, Some(4143));
    assert!(addrs[&format!("{BB_2}:8080")].protocol_hint.is_none());

    let mut profiles = mesh
        .client
        .get_profile(request("bb.mc-demo:80"))
        .await
        .expect("a profile stream")
        .into_inner();
    let profile = tokio::time::timeout(PATIENCE, profiles.message())
        .await
        .expect("a profile")
        .expect("no error")
        .expect("open");
    assert!(profile.opaque_protocol);
}
