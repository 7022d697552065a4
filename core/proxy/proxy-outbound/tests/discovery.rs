//! Discovery against a real destination server: shared streams, idle
//! close, and reopening a failed stream.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use strait_proxy_outbound::{
    Discovery, DiscoveryConfig, Resolved, context_token, gateway_context_token,
};
use support::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a stream nobody receives from stays open.
const IDLE_TIMEOUT: Duration = Duration::from_millis(300);

/// A TCP relay to the destination server whose connections can be cut and
/// which can refuse new ones, to make the stream fail.
struct Relay {
    addr: SocketAddr,
    refuse: Arc<AtomicBool>,
    connections: Arc<parking_lot::Mutex<JoinSet<()>>>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let refuse = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(parking_lot::Mutex::new(JoinSet::new()));
        let (task_refuse, task_connections) = (refuse.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if task_refuse.load(Ordering::SeqCst) {
                    continue;
                }
                task_connections.lock().spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Relay {
            addr,
            refuse,
            connections,
        }
    }

    fn cut(&self) {
        self.connections.lock().abort_all();
    }
}

fn addrs(resolved: &Resolved) -> Vec<SocketAddr> {
    match resolved {
        Resolved::Endpoints(map) => map.keys().copied().collect(),
        _ => Vec::new(),
    }
}

async fn wait_until(rx: &mut watch::Receiver<Resolved>, want: impl Fn(&Resolved) -> bool) {
    let waited = tokio::time::timeout(PATIENCE, rx.wait_for(|r| want(r)))
        .await
        .is_ok();
    assert!(waited, "still {:?}", *rx.borrow());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stream_per_authority_is_shared_closed_when_unused_and_reopened_when_it_fails() {
    let cp = control_plane().await;
    let (b1, b2) = (Backend::start("bb-1").await, Backend::start("bb-2").await);
    bb(&cp, &[&b1, &b2]).await;
    let relay = Relay::start(cp.addr).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", relay.addr))
        .unwrap()
        .connect_lazy();
    let discovery = Discovery::with_config(
        DestinationClient::new(channel),
        context_token(NS, "node-1", "client-1"),
        DiscoveryConfig {
            idle_timeout: IDLE_TIMEOUT,
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(200),
            ..DiscoveryConfig::default()
        },
    );

    let mut first = discovery.resolve(BB);
    let mut second = discovery.resolve(BB);
    assert_eq!(discovery.open_streams(), 1);
    wait_until(&mut first, |r| addrs(r).len() == 2).await;
    wait_until(&mut second, |r| addrs(r).len() == 2).await;
    match &*first.borrow() {
        Resolved::Endpoints(map) => {
            let endpoint = &map[&b1.addr];
            assert_eq!(endpoint.identity.as_deref(), Some(BB_IDENTITY));
            assert_eq!(endpoint.labels["service"], "bb");
            assert_eq!(endpoint.labels["pod"], "bb-1");
        }
        other => panic!("{other:?}"),
    }

    // The connection to the control plane breaks and stays refused while
    // bb-2 goes away: the last endpoints are kept meanwhile.
    relay.refuse.store(true, Ordering::SeqCst);
    relay.cut();
    list(&cp, &[&b1]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(addrs(&first.borrow()).len(), 2, "{:?}", *first.borrow());
    // Reopened, the new stream's answer replaces the old one.
    relay.refuse.store(false, Ordering::SeqCst);
    wait_until(&mut first, |r| addrs(r) == [b1.addr]).await;

    // An unknown Service is a separate stream.
    let mut unknown = discovery.resolve("nope.mc-demo.svc.cluster.local:8080");
    assert_eq!(discovery.open_streams(), 2);
    wait_until(&mut unknown, |r| {
        *r == Resolved::NoEndpoints { exists: false }
    })
    .await;

    // Unused streams close after the idle timeout, not before: the time
    // they are seen closed is a bound the clock of a loaded machine can
    // only lengthen.
    let dropped = Instant::now();
    drop((first, second, unknown));
    let closed = tokio::time::timeout(PATIENCE, async {
        while discovery.open_streams() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "{} streams still open",
        discovery.open_streams()
    );
    assert!(
        dropped.elapsed() >= IDLE_TIMEOUT,
        "closed {:?} after the last receiver went, before the idle timeout",
        dropped.elapsed()
    );

    // A new user opens it again.
    let mut again = discovery.resolve(BB);
    wait_until(&mut again, |r| addrs(r) == [b1.addr]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_lookup_is_reported() {
    let cp = control_plane().await;
    let client = DestinationClient::connect(format!("http://{}", cp.addr))
        .await
        .unwrap();
    let discovery = Discovery::new(client, context_token(NS, "node-1", "client-1"));
    let mut rx = discovery.resolve("not a valid authority");
    wait_until(&mut rx, |r| matches!(r, Resolved::Failed(_))).await;
}

/// A gateway's discovery is refused a Service its cluster does not export
/// (`Resolved::Refused`, which the gateway answers 403), resolves it once
/// exported, and is refused again mid-stream once it is withdrawn: a
/// refusal replaces the endpoints the stream had announced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_follows_what_its_cluster_exports() {
    let cp = control_plane().await;
    let exported = |on: bool| {
        let mut bb = service("bb", BB_CLUSTER_IP, 8080, "http");
        if on {
            bb["metadata"]["labels"] = serde_json::json!({"mirror.linkerd.io/exported": "true"});
        }
        bb
    };
    apply(&cp.store, exported(false));
    apply(&cp.store, pod("bb-1", "bb", "http", 9000, true));
    apply(&cp.store, slice("bb-slice", "bb", 9000, &["bb-1"], true));
    settle(&cp.index, "bb", 8080, 1).await;
    let client = DestinationClient::connect(format!("http://{}", cp.addr))
        .await
        .unwrap();
    let token = gateway_context_token(&context_token("linkerd-multicluster", "node-1", "gw-1"));
    let discovery = Discovery::with_config(
        client,
        token,
        DiscoveryConfig {
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_millis(50),
            ..DiscoveryConfig::default()
        },
    );
    let mut rx = discovery.resolve(BB);
    wait_until(&mut rx, |r| {
        matches!(r, Resolved::Refused(why) if why.contains("service mc-demo/bb is not exported"))
    })
    .await;

    apply(&cp.store, exported(true));
    wait_until(&mut rx, |r| addrs(r).len() == 1).await;

    apply(&cp.store, exported(false));
    wait_until(&mut rx, |r| matches!(r, Resolved::Refused(_))).await;
}
