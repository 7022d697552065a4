//! Gateway mode on loopback: west's slow-cooker calls `bb-east`, a
//! gateway-mode mirror whose endpoint is east's gateway; the gateway
//! terminates mTLS and forwards by authority to bb in east, again over
//! mTLS. Both clusters share one trust anchor, each has its own issuer.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::json;
use strait_proxy::DirectInbound;
use strait_proxy_integration::{
    CONTROL_PLANE_NS, NS, ProxySpec, any_port, apply, bb_app, bb_workload, control_plane,
    free_port, http_get, identity, metrics, namespaces, proxy, request_until, trust_root,
};
use strait_store::MemoryStore;

const GATEWAY_NS: &str = "linkerd-multicluster";

/// A proxy of one of the two clusters, asking that cluster's control plane.
fn spec<'a>(
    sa: &'a str,
    ns: &'a str,
    pod: &'a str,
    ip: &'a str,
    anchors: &'a str,
    plane: SocketAddr,
) -> ProxySpec<'a> {
    ProxySpec {
        sa,
        ns,
        pod,
        ip,
        anchors,
        identity_addr: plane,
        control_addr: plane,
        inbound: any_port(),
        direct: Vec::new(),
        gateway: false,
        metric_labels: BTreeMap::new(),
        tls: None,
        pinned: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn west_reaches_bb_in_east_through_the_gateway() {
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let (east, west) = (MemoryStore::new(), MemoryStore::new());
    namespaces(&east, &[NS, CONTROL_PLANE_NS, GATEWAY_NS]);
    namespaces(&west, &[NS, CONTROL_PLANE_NS, GATEWAY_NS]);
    let bb_port = free_port();
    let gateway_port = free_port();
    let gateway_identity = identity("linkerd-gateway", GATEWAY_NS);

    // East: bb with no Server (all-unauthenticated), behind its proxy.
    bb_workload(&east, bb_port, "10.112.0.10");
    // West: the gateway-mode mirror the service mirror writes.
    apply(
        &west,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "bb-east", "namespace": NS,
                         "labels": {"mirror.linkerd.io/mirrored-service": "true",
                                    "mirror.linkerd.io/cluster-name": "east"},
                         "annotations": {"mirror.linkerd.io/remote-svc-fq-name": "bb.mc-demo.svc.cluster.local"}},
            "spec": {"clusterIP": "10.96.0.20",
                     "ports": [{"name": "http", "port": bb_port, "targetPort": bb_port}]}
        }),
    );
    apply(
        &west,
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "bb-east", "namespace": NS,
                         "labels": {"mirror.linkerd.io/mirrored-service": "true",
                                    "mirror.linkerd.io/cluster-name": "east"},
                         "annotations": {"mirror.linkerd.io/remote-gateway-identity": gateway_identity}},
            "subsets": [{"addresses": [{"ip": "127.0.0.5"}],
                         "ports": [{"name": "http", "port": gateway_port, "protocol": "TCP"}]}]
        }),
    );

    let (east_plane, _) = control_plane(
        "east",
        &east,
        &root,
        &[(NS, "bb"), (GATEWAY_NS, "linkerd-gateway")],
    )
    .await;
    let (west_plane, _) = control_plane("west", &west, &root, &[(NS, "slow-cooker")]).await;
    let app = bb_app().await;
    let bb = proxy(ProxySpec {
        direct: vec![DirectInbound {
            listen: format!("127.0.0.1:{bb_port}").parse().unwrap(),
            app,
        }],
        ..spec(
            "bb",
            NS,
            "bb-1",
            "127.0.0.1",
            &anchors,
            east_plane.local_addr(),
        )
    })
    .await;
    let gateway_addr: SocketAddr = format!("127.0.0.5:{gateway_port}").parse().unwrap();
    let gateway = proxy(ProxySpec {
        inbound: gateway_addr,
        gateway: true,
        ..spec(
            "linkerd-gateway",
            GATEWAY_NS,
            "linkerd-gateway-1",
            "127.0.0.5",
            &anchors,
            east_plane.local_addr(),
        )
    })
    .await;
    let slow_cooker = proxy(spec(
        "slow-cooker",
        NS,
        "slow-cooker-1",
        "127.0.0.2",
        &anchors,
        west_plane.local_addr(),
    ))
    .await;

    let host = format!("bb-east.{NS}.svc.cluster.local:{bb_port}");
    let answer = request_until("127.0.0.2", slow_cooker.outbound_addr, &host, 200).await;
    assert_eq!((answer.0, answer.1.as_str()), (200, "bb says hi"));

    // bb saw the gateway, over mTLS: gateway mode carries the gateway's
    // identity, not the original client's.
    let text = metrics(bb.admin_addr).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("inbound_http_authz_allow_total{")
                && l.contains(&format!("client_id=\"{gateway_identity}\""))),
        "{text}"
    );
    // The gateway serves meshed clients only: plaintext is closed unanswered.
    let (status, _) = http_get(
        "127.0.0.4",
        gateway_addr,
        "bb.mc-demo.svc.cluster.local",
        "/",
    )
    .await;
    assert_eq!(status, 0);
    drop((bb, gateway, slow_cooker, east_plane, west_plane));
}
