//! The open-relay attack on a multicluster gateway. Any proxy of a linked
//! cluster reaches the gateway and names the authority; the gateway must
//! forward only to Services of its cluster by name, and answer anything
//! else (addresses, loopback, names elsewhere) 403 without connecting or
//! keeping state for it.

mod support;

use strait_proxy_outbound::GatewayScope;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_forwards_services_by_name_and_nothing_else() {
    let cp = control_plane().await;
    let backend = Backend::start("bb-1").await;
    bb(&cp, &[&backend]).await;
    let gateway = gateway(&cp, GatewayScope::new(["svc.cluster.local."])).await;

    let (status, answered_by, body) = get_once(gateway.addr, BB).await;
    assert_eq!((status, answered_by.as_str()), (200, "bb-1"), "{body}");
    let hits = backend.hits();

    // The backend itself by address, bb's ClusterIP, loopback by name,
    // the cloud's metadata address and a name outside the cluster.
    for authority in [
        backend.addr.to_string(),
        format!("{BB_CLUSTER_IP}:8080"),
        format!("localhost:{}", backend.addr.port()),
        "169.254.169.254:80".to_string(),
        "example.com:443".to_string(),
    ] {
        let (status, _, body) = get_once(gateway.addr, &authority).await;
        assert_eq!(status, 403, "{authority} was forwarded: {body}");
        assert!(body.contains("the gateway forwards"), "{authority}: {body}");
    }
    assert_eq!(
        backend.hits(),
        hits,
        "a refused request reached the backend"
    );
    // Refused names got no balancer: nothing a client names grows state.
    assert_eq!(gateway.outbound.balancers(), 1);
    let seen = gateway.connect.seen.lock().unwrap().clone();
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), [backend.addr]);
}
