//! The open-relay attack on a multicluster gateway. Any proxy of a linked
//! cluster reaches the gateway and names the authority; the gateway must
//! forward only to Services of its cluster by name, and answer anything
//! else (addresses, loopback, names elsewhere) 403 without connecting or
//! keeping state for it.

mod support;

use std::time::Duration;

use strait_proxy_metrics::{ProxyMetrics, Retention};
use strait_proxy_outbound::{DiscoveryConfig, GatewayScope, OutboundConfig};
use strait_test_support::metrics::exposition;
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
    let seen = gateway.connect.seen.lock().clone();
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), [backend.addr]);
}

/// The memory attack on a gateway: a linked cluster's proxy names any
/// Service of the cluster, or any port of one, and each name would keep a
/// balancer, a discovery stream and metric series. All stay bounded;
/// refused names keep nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_a_client_makes_up_do_not_grow_the_gateways_state() {
    const CAP: usize = 8;
    const NAMES: usize = 40;
    let cp = control_plane().await;
    let backend = Backend::start("bb-1").await;
    bb(&cp, &[&backend]).await;
    let setup = Setup {
        outbound: OutboundConfig {
            no_endpoints_timeout: Duration::from_millis(50),
            max_balancers: CAP,
            ..test_config()
        },
        discovery: DiscoveryConfig {
            max_streams: CAP,
            ..Setup::default().discovery
        },
        metrics: ProxyMetrics::with_retention(Retention {
            max_series: CAP,
            ..Retention::default()
        }),
    };
    let gateway = gateway_with(&cp, GatewayScope::new(["svc.cluster.local."]), setup).await;
    assert_eq!(get_once(gateway.addr, BB).await.0, 200);

    for i in 0..NAMES {
        // Services that do not exist, named as the scope admits.
        let name = format!("made-up-{i}.{NS}.svc.cluster.local:8080");
        assert_eq!(get_once(gateway.addr, &name).await.0, 503, "{name}");
        // bb on ports it does not declare: resolved, connected to (the
        // backend's own port keeps answering), counted.
        let port = 40_000 + i;
        get_once(gateway.addr, &format!("bb.{NS}.svc.cluster.local:{port}")).await;
        // Refused names: no state at all.
        let refused = format!("10.0.{i}.1:80");
        assert_eq!(get_once(gateway.addr, &refused).await.0, 403, "{refused}");
    }

    assert!(
        gateway.outbound.balancers() <= CAP,
        "{} balancers",
        gateway.outbound.balancers()
    );
    assert!(
        gateway.discovery.open_streams() <= CAP,
        "{} discovery streams",
        gateway.discovery.open_streams()
    );
    let text = exposition(|registry| gateway.metrics.register(registry));
    let requests = text
        .lines()
        .filter(|l| l.starts_with("request_total{"))
        .count();
    // The cap, and the series of the endpoints of the balancers kept.
    assert!(requests <= 2 * CAP, "{requests} series\n{text}");
    assert!(
        !text.contains("\"10.0."),
        "a refused name is in the metrics\n{text}"
    );
    assert_eq!(get_once(gateway.addr, BB).await.0, 200);
}
