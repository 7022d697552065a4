//! The guide's data plane on loopback: a control plane fed by an embedded
//! store, bb's proxy in front of a bb app, slow-cooker's and
//! slow-cooker-evil's proxies calling it by name. Certificates come from
//! the identity service, policy from the policy service, endpoints from
//! the destination service; every hop is a real socket.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use strait_api::policy::AuthorizationPolicy;
use strait_control_plane::RunningControlPlane;
use strait_plugin_distribution::{OfferedPlugin, PluginKind, PluginOffer};
use strait_proxy::{DirectInbound, RunningProxy};
use strait_proxy_integration::{
    NS, PATIENCE, ProxySpec, any_port, apply_all, bb_app, control_plane, free_port, guide,
    http_get, identity, metrics, proxy, request_path_until, request_until, trust_root,
};
use strait_store::{ClusterStore, MemoryStore};
use strait_test_support::objects::{http_route, route_authorization_policy};
use strait_test_support::store::delete;

/// slow-cooker's pod address: its app connects to its proxy from there.
const GOOD_IP: &str = "127.0.0.2";
/// slow-cooker-evil's pod address.
const EVIL_IP: &str = "127.0.0.3";
/// The API groups of the two HTTPRoutes a Server may have.
const POLICY_GROUP: &str = "policy.linkerd.io";
const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// One request from the pod at `from` over a fresh connection; the status
/// code and body.
async fn request(from: &str, to: SocketAddr, host: &str) -> (u16, String) {
    http_get(from, to, host, "/").await
}

/// The value of the first series of `family` whose labels contain every
/// one of `labels`.
fn series(text: &str, family: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A proxy of the guide's namespace, labelling its metrics with it.
fn guide_proxy<'a>(
    sa: &'a str,
    ip: &'a str,
    pod: &'a str,
    anchors: &'a str,
    plane: &RunningControlPlane,
    direct: Vec<DirectInbound>,
) -> ProxySpec<'a> {
    ProxySpec {
        sa,
        ns: NS,
        pod,
        ip,
        anchors,
        identity_addr: plane.local_addr(),
        control_addr: plane.local_addr(),
        inbound: any_port(),
        direct,
        gateway: false,
        metric_labels: BTreeMap::from([("namespace".to_string(), NS.to_string())]),
        tls: None,
        pinned: None,
    }
}

/// The guide on loopback: the control plane, bb's proxy in front of bb's
/// app, and slow-cooker's and slow-cooker-evil's proxies, all certified.
struct Guide {
    store: MemoryStore,
    plane: RunningControlPlane,
    plugins: PluginOffer,
    bb: RunningProxy,
    good: RunningProxy,
    evil: RunningProxy,
    /// bb's port (Service, Server and container port alike).
    port: u16,
    /// Where bb's proxy listens for bb's port.
    bb_listen: SocketAddr,
}

async fn guide_mesh() -> Guide {
    let store = MemoryStore::new();
    let port = free_port();
    guide(&store, port);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let accounts = [(NS, "bb"), (NS, "slow-cooker"), (NS, "slow-cooker-evil")];
    let (plane, plugins) = control_plane("local", &store, &root, &accounts).await;
    let app = bb_app().await;
    let bb_listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let spec = |sa, ip, pod, direct| guide_proxy(sa, ip, pod, &anchors, &plane, direct);
    let direct = vec![DirectInbound {
        listen: bb_listen,
        app,
    }];
    let bb = proxy(spec("bb", "127.0.0.1", "bb-1", direct)).await;
    let good = proxy(spec("slow-cooker", GOOD_IP, "slow-cooker-1", Vec::new())).await;
    let evil = proxy(spec(
        "slow-cooker-evil",
        EVIL_IP,
        "slow-cooker-evil-1",
        Vec::new(),
    ))
    .await;
    Guide {
        store,
        plane,
        plugins,
        bb,
        good,
        evil,
        port,
        bb_listen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_cooker_is_admitted_and_everyone_else_is_not() {
    let Guide {
        plane,
        bb,
        good,
        evil,
        port,
        bb_listen,
        ..
    } = guide_mesh().await;
    let host = format!("bb.{NS}.svc.cluster.local:{port}");

    // slow-cooker reaches bb by name, over mTLS, and is admitted.
    let (status, body) = request_until(GOOD_IP, good.outbound_addr, &host, 200).await;
    assert_eq!((status, body.as_str()), (200, "bb says hi"));
    let before = metrics(bb.admin_addr).await;
    let admitted = |text: &str| {
        series(
            text,
            "inbound_http_authz_allow_total",
            &[
                &format!("client_id=\"{}\"", identity("slow-cooker", NS)),
                "srv_kind=\"server\"",
                "srv_name=\"bb\"",
                "authz_kind=\"authorizationpolicy\"",
                "authz_name=\"bb-authz\"",
            ],
        )
        .unwrap_or(0.0)
    };
    for _ in 0..5 {
        assert_eq!(request(GOOD_IP, good.outbound_addr, &host).await.0, 200);
    }

    // slow-cooker-evil is authenticated, but not admitted.
    let (status, _) = request(EVIL_IP, evil.outbound_addr, &host).await;
    assert_eq!(status, 403);
    // A plaintext client straight at bb's port (from another pod's
    // address) has no identity at all.
    let (status, _) = http_get("127.0.0.4", bb_listen, &host, "/").await;
    assert_eq!(status, 403);

    let after = metrics(bb.admin_addr).await;
    assert_eq!(admitted(&after) - admitted(&before), 5.0, "{after}");
    let denied = |text: &str, tls: &str| {
        series(
            text,
            "inbound_http_authz_deny_total",
            &[tls, "srv_name=\"bb\""],
        )
        .unwrap_or(0.0)
    };
    let evil_id = format!("client_id=\"{}\"", identity("slow-cooker-evil", NS));
    assert_eq!(
        denied(&after, &evil_id) - denied(&before, &evil_id),
        1.0,
        "{after}"
    );
    assert_eq!(
        denied(&after, "no_tls_reason=\"no_tls_from_remote\"")
            - denied(&before, "no_tls_reason=\"no_tls_from_remote\""),
        1.0,
        "{after}"
    );
    assert!(
        after.contains("namespace=\"mc-demo\""),
        "the proxy's own labels are on its metrics: {after}"
    );
    drop((bb, good, evil, plane));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_certified_under_another_trust_anchor_cannot_reach_bb() {
    let store = MemoryStore::new();
    let port = free_port();
    guide(&store, port);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let (plane, _) =
        control_plane("local", &store, &root, &[(NS, "bb"), (NS, "slow-cooker")]).await;
    // A second mesh, with its own root, issues slow-cooker's certificate.
    let other_root = trust_root();
    let other_anchors = other_root.as_trust_anchor().to_pem();
    let (other, _) = control_plane("local", &store, &other_root, &[(NS, "slow-cooker")]).await;
    let app = bb_app().await;
    let bb_listen: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let direct = vec![DirectInbound {
        listen: bb_listen,
        app,
    }];
    let bb = proxy(guide_proxy(
        "bb",
        "127.0.0.1",
        "bb-1",
        &anchors,
        &plane,
        direct,
    ))
    .await;
    let foreign = proxy(ProxySpec {
        identity_addr: other.local_addr(),
        ..guide_proxy(
            "slow-cooker",
            GOOD_IP,
            "slow-cooker-1",
            &other_anchors,
            &plane,
            Vec::new(),
        )
    })
    .await;
    let host = format!("bb.{NS}.svc.cluster.local:{port}");
    // The same name, but bb's certificate does not chain to the foreign
    // proxy's anchor (and the other way round): the handshake fails and
    // the request never reaches bb's app.
    let (status, _) = request_until(GOOD_IP, foreign.outbound_addr, &host, 502).await;
    assert_eq!(status, 502);
    let text = metrics(bb.admin_addr).await;
    assert_eq!(
        series(
            &text,
            "inbound_http_authz_allow_total",
            &["srv_name=\"bb\""]
        ),
        None,
        "{text}"
    );
    drop((bb, foreign, plane, other));
}

/// The identity-borrowing attack: every pod's address is reachable on
/// the flat network, so slow-cooker-evil's app (or any process of the
/// machine) can connect to slow-cooker's outbound listener and ask for bb,
/// which would admit the request as slow-cooker's. The proxy serves only
/// its own pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_other_pod_can_send_through_slow_cookers_proxy() {
    // Held to the end: dropping the mesh stops its control plane and bb.
    let mesh = guide_mesh().await;
    let good = &mesh.good;
    let host = format!("bb.{NS}.svc.cluster.local:{}", mesh.port);
    assert_eq!(
        request_until(GOOD_IP, good.outbound_addr, &host, 200)
            .await
            .0,
        200
    );
    for attacker in [EVIL_IP, "127.0.0.1", "127.0.0.9"] {
        let (status, body) = request(attacker, good.outbound_addr, &host).await;
        assert_eq!(
            status, 0,
            "{attacker} was served by slow-cooker's proxy: {body}"
        );
    }
    let text = metrics(good.admin_addr).await;
    assert_eq!(
        series(
            &text,
            "connection_refused_total",
            &["direction=\"outbound\"", "reason=\"not_from_pod\""]
        ),
        Some(3.0),
        "{text}"
    );
    // slow-cooker's own app is still served.
    assert_eq!(request(GOOD_IP, good.outbound_addr, &host).await.0, 200);
}

/// A call to bb's pod address rather than its Service (a StatefulSet
/// member, a headless Service, a direct call): bb admits only
/// slow-cooker's identity, so the request gets through only if discovery
/// names bb's identity for the address and slow-cooker's proxy sends it
/// over mTLS; in plaintext bb answers 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_cooker_reaches_bbs_pod_address_over_mtls() {
    let mesh = guide_mesh().await;
    // bb's pod reports its address, as the kubelet does.
    let status = json!({"phase": "Running", "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]});
    mesh.store
        .patch_status::<Pod>(NS, "bb-1", status)
        .await
        .expect("bb's status");
    let host = format!("127.0.0.1:{}", mesh.port);
    let (status, body) = request_until(GOOD_IP, mesh.good.outbound_addr, &host, 200).await;
    assert_eq!((status, body.as_str()), (200, "bb says hi"));
    let text = metrics(mesh.bb.admin_addr).await;
    assert!(
        series(
            &text,
            "inbound_http_authz_allow_total",
            &[
                &format!("client_id=\"{}\"", identity("slow-cooker", NS)),
                "srv_name=\"bb\"",
            ],
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
}

/// The built-in authz plugin with a custom section appended: a different
/// component (another digest) that decides the same way.
fn rebuilt_authz_plugin(tag: &str) -> Vec<u8> {
    strait_default_plugins::fixtures::with_custom_section(
        strait_default_plugins::AUTHZ_DEFAULT,
        "strait-test",
        tag.as_bytes(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_pushed_under_load_reaches_bb_with_no_failed_request() {
    let Guide {
        plane,
        plugins,
        bb,
        good,
        evil,
        port,
        ..
    } = guide_mesh().await;
    let host = format!("bb.{NS}.svc.cluster.local:{port}");
    assert_eq!(
        request_until(GOOD_IP, good.outbound_addr, &host, 200)
            .await
            .0,
        200
    );
    assert_eq!(
        request_until(EVIL_IP, evil.outbound_addr, &host, 403)
            .await
            .0,
        403
    );

    // Admitted and refused clients keep calling while new versions are
    // pushed; every answer must stay what the policy says.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caller = |from: &'static str, to: SocketAddr, expected: u16| {
        let stop = stop.clone();
        let host = host.clone();
        tokio::spawn(async move {
            let (mut right, mut wrong) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, _) = request(from, to, &host).await;
                if status == expected {
                    right += 1;
                } else {
                    wrong.push(status);
                }
            }
            (right, wrong)
        })
    };
    let admitted = caller(GOOD_IP, good.outbound_addr, 200);
    let refused = caller(EVIL_IP, evil.outbound_addr, 403);
    for version in ["v2", "v3"] {
        tokio::time::sleep(Duration::from_millis(300)).await;
        plugins
            .offer(OfferedPlugin {
                kind: PluginKind::Authz,
                version: version.to_string(),
                origin: "test push".to_string(),
                wasm: rebuilt_authz_plugin(version).into(),
            })
            .unwrap();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while bb.authz_plugin().active().label != version {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{version} never reached bb"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = admitted.await.unwrap();
    let (denied, admitted_wrongly) = refused.await.unwrap();
    assert!(failed.is_empty(), "admitted requests failed: {failed:?}");
    assert!(
        admitted_wrongly.is_empty(),
        "refused client got: {admitted_wrongly:?}"
    );
    assert!(
        ok > 10 && denied > 10,
        "too little traffic: {ok} admitted, {denied} refused"
    );
    drop((bb, good, evil, plane));
}

/// Per-route authorization end to end: bb's Server gets two HTTPRoutes,
/// `/allowed` (policy.linkerd.io) and `/denied` (Gateway API), and the
/// guide's policy moves from the Server to the first route. slow-cooker
/// is admitted on `/allowed` only; a path neither route takes is 404; the
/// proxy counts both under the route's labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_on_a_route_admits_slow_cooker_on_that_route_only() {
    let Guide {
        store,
        plane,
        bb,
        good,
        evil,
        port,
        ..
    } = guide_mesh().await;
    let host = format!("bb.{NS}.svc.cluster.local:{port}");
    assert_eq!(
        request_until(GOOD_IP, good.outbound_addr, &host, 200)
            .await
            .0,
        200
    );
    apply_all(
        &store,
        [
            http_route(NS, "bb-allowed", POLICY_GROUP, "bb", "/allowed"),
            http_route(NS, "bb-denied", GATEWAY_GROUP, "bb", "/denied"),
            route_authorization_policy(NS, "allowed-authz", POLICY_GROUP, "bb-allowed", "bb-good"),
        ],
    );
    delete::<AuthorizationPolicy>(&store, NS, "bb-authz").await;

    // Once the routes reach bb's proxy, a path they do not take is 404.
    let get = |from, proxy: &RunningProxy, path| {
        let (to, host) = (proxy.outbound_addr, host.clone());
        async move { http_get(from, to, &host, path).await.0 }
    };
    let (status, _) = request_path_until(GOOD_IP, good.outbound_addr, &host, "/", 404).await;
    assert_eq!(status, 404);
    let before = metrics(bb.admin_addr).await;
    for _ in 0..3 {
        assert_eq!(get(GOOD_IP, &good, "/allowed/x").await, 200);
    }
    assert_eq!(get(GOOD_IP, &good, "/denied").await, 403);
    assert_eq!(get(GOOD_IP, &good, "/denied/x").await, 403);
    assert_eq!(get(EVIL_IP, &evil, "/allowed").await, 403);

    let after = metrics(bb.admin_addr).await;
    let on_route = |family: &str, route: &str, group: &str, extra: &[&str]| {
        let route_name = format!("route_name=\"{route}\"");
        let route_group = format!("route_group=\"{group}\"");
        let mut labels = vec![
            "srv_name=\"bb\"",
            "route_kind=\"HTTPRoute\"",
            route_name.as_str(),
            route_group.as_str(),
        ];
        labels.extend_from_slice(extra);
        let count = |text: &str| series(text, family, &labels).unwrap_or(0.0);
        count(&after) - count(&before)
    };
    let allowed_by = [
        "authz_kind=\"authorizationpolicy\"",
        "authz_name=\"allowed-authz\"",
    ];
    assert_eq!(
        on_route(
            "inbound_http_authz_allow_total",
            "bb-allowed",
            POLICY_GROUP,
            &allowed_by
        ),
        3.0,
        "{after}"
    );
    assert_eq!(
        on_route(
            "inbound_http_authz_deny_total",
            "bb-denied",
            GATEWAY_GROUP,
            &[]
        ),
        2.0,
        "{after}"
    );
    let evil_id = format!("client_id=\"{}\"", identity("slow-cooker-evil", NS));
    assert_eq!(
        on_route(
            "inbound_http_authz_deny_total",
            "bb-allowed",
            POLICY_GROUP,
            &[&evil_id]
        ),
        1.0,
        "{after}"
    );
    drop((bb, good, evil, plane));
}
