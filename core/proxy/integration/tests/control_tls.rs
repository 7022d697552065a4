//! The control plane over TLS, as on a cluster, and the attacks it stops:
//! a spoofed policy service (plaintext, or a certificate under another
//! anchor) that would serve allow-all policies and push its own plugin, an
//! identity service impostor collecting ServiceAccount tokens, a meshed
//! pod asking for another pod's policy, and an unpinned plugin.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use linkerd2_proxy_api::inbound::PortSpec;
use linkerd2_proxy_api::inbound::inbound_server_policies_client::InboundServerPoliciesClient;
use parking_lot::Mutex;
use strait_plugin_distribution::{OfferedPlugin, PluginKind};
use strait_proxy::{DirectInbound, RunningProxy};
use strait_proxy_integration::{
    ControlAddrs, NS, PATIENCE, ProxySpec, TlsControlPlane, any_port, bb_app, control_plane,
    free_port, guide, http_get, identity, proxy, request_until, tls_control_plane, trust_root,
};
use strait_store::MemoryStore;
use strait_tls::control::{self, ControlTls};
use strait_tls::{TrustRoots, wait_for_credentials};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const GOOD_IP: &str = "127.0.0.2";
const EVIL_IP: &str = "127.0.0.3";

fn spec<'a>(
    sa: &'a str,
    ip: &'a str,
    pod: &'a str,
    anchors: &'a str,
    addrs: &ControlAddrs,
    direct: Vec<DirectInbound>,
) -> ProxySpec<'a> {
    ProxySpec {
        sa,
        ns: NS,
        pod,
        ip,
        anchors,
        identity_addr: addrs.identity.0,
        control_addr: addrs.destination.0,
        inbound: any_port(),
        direct,
        gateway: false,
        metric_labels: BTreeMap::new(),
        tls: Some(addrs.clone()),
        pinned: None,
    }
}

/// A TCP relay whose target can be switched, cutting the connections it
/// carries: the network position of whoever intercepts a control-plane
/// address. Counts the connections it carried to each target.
struct Relay {
    addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    carried: Arc<Mutex<BTreeMap<SocketAddr, usize>>>,
    live: Arc<Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl Relay {
    async fn to(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind(any_port()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = Arc::new(Mutex::new(target));
        let carried = Arc::new(Mutex::new(BTreeMap::new()));
        let live = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (target, carried, live) = (target.clone(), carried.clone(), live.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        return;
                    };
                    let to = *target.lock();
                    *carried.lock().entry(to).or_insert(0) += 1;
                    live.lock().push(tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(to).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    }));
                }
            })
        };
        Relay {
            addr,
            target,
            carried,
            live,
            _accept: accept,
        }
    }

    /// Sends new connections to `target` and cuts the current ones, so
    /// the proxy reconnects through the new route.
    fn switch(&self, target: SocketAddr) {
        *self.target.lock() = target;
        for conn in self.live.lock().drain(..) {
            conn.abort();
        }
    }

    fn carried_to(&self, target: SocketAddr) -> usize {
        self.carried.lock().get(&target).copied().unwrap_or(0)
    }
}

struct Mesh {
    plane: TlsControlPlane,
    anchors: String,
    bb: RunningProxy,
    evil: RunningProxy,
    host: String,
    relay: Relay,
}

/// The guide over a TLS control plane; bb reaches its policy service
/// through a relay an attacker can take over.
async fn guide_over_tls() -> Mesh {
    let store = MemoryStore::new();
    let port = free_port();
    guide(&store, port);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let accounts = [(NS, "bb"), (NS, "slow-cooker"), (NS, "slow-cooker-evil")];
    let plane = tls_control_plane("local", &store, &root, &accounts).await;
    let relay = Relay::to(plane.policy.local_addr()).await;
    let mut bb_addrs = plane.addrs();
    bb_addrs.policy.0 = relay.addr;
    let app = bb_app().await;
    let direct = vec![DirectInbound {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        app,
    }];
    let bb = proxy(spec("bb", "127.0.0.1", "bb-1", &anchors, &bb_addrs, direct)).await;
    let evil = proxy(spec(
        "slow-cooker-evil",
        EVIL_IP,
        "slow-cooker-evil-1",
        &anchors,
        &plane.addrs(),
        Vec::new(),
    ))
    .await;
    Mesh {
        plane,
        anchors,
        bb,
        evil,
        host: format!("bb.{NS}.svc.cluster.local:{port}"),
        relay,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_runs_over_a_tls_control_plane() {
    let mesh = guide_over_tls().await;
    let good = proxy(spec(
        "slow-cooker",
        GOOD_IP,
        "slow-cooker-1",
        &mesh.anchors,
        &mesh.plane.addrs(),
        Vec::new(),
    ))
    .await;
    let (status, body) = request_until(GOOD_IP, good.outbound_addr, &mesh.host, 200).await;
    assert_eq!((status, body.as_str()), (200, "bb says hi"));
    let (status, _) = http_get(EVIL_IP, mesh.evil.outbound_addr, &mesh.host, "/").await;
    assert_eq!(status, 403, "slow-cooker-evil is refused by bb's policy");
}

/// A policy service of the attacker's: every port admits everyone (no
/// Server selects bb), and it offers its own authz plugin.
async fn spoofed_store(port: u16) -> MemoryStore {
    let store = MemoryStore::new();
    strait_proxy_integration::namespaces(&store, &[NS, strait_proxy_integration::CONTROL_PLANE_NS]);
    strait_proxy_integration::bb_workload(&store, port, "10.96.0.10");
    store
}

fn attacker_plugin() -> OfferedPlugin {
    OfferedPlugin {
        kind: PluginKind::Authz,
        version: "attacker".to_string(),
        origin: "attacker".to_string(),
        wasm: strait_default_plugins::fixtures::with_custom_section(
            strait_default_plugins::AUTHZ_DEFAULT,
            "attacker",
            b"admit-all",
        )
        .into(),
    }
}

/// bb's proxy is moved to a spoofed policy service; it must refuse it,
/// keep its last good policy (slow-cooker-evil stays refused) and keep
/// its plugin.
async fn spoof_policy(spoof: SocketAddr, mesh: &Mesh) {
    let plugin_before = mesh.bb.authz_plugin().active().digest.clone();
    assert_eq!(
        http_get(EVIL_IP, mesh.evil.outbound_addr, &mesh.host, "/")
            .await
            .0,
        403
    );
    mesh.relay.switch(spoof);
    // The proxy reconnects through the relay, to the spoof.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while mesh.relay.carried_to(spoof) < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "bb's proxy never tried the spoofed policy service"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..5 {
        let (status, _) = http_get(EVIL_IP, mesh.evil.outbound_addr, &mesh.host, "/").await;
        assert_eq!(
            status, 403,
            "the spoofed policy must not admit slow-cooker-evil"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        mesh.bb.authz_plugin().active().digest,
        plugin_before,
        "the spoofed service's plugin must not run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_policy_impostor_is_refused_and_the_last_good_policy_stays() {
    let mesh = guide_over_tls().await;
    let port: u16 = mesh.host.rsplit(':').next().unwrap().parse().unwrap();
    let store = spoofed_store(port).await;
    let spoof_root = trust_root();
    let (spoof, offer) = control_plane("spoof", &store, &spoof_root, &[(NS, "bb")]).await;
    offer.offer(attacker_plugin()).unwrap();
    spoof_policy(spoof.local_addr(), &mesh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_impostor_certified_under_another_anchor_is_refused() {
    let mesh = guide_over_tls().await;
    let port: u16 = mesh.host.rsplit(':').next().unwrap().parse().unwrap();
    let store = spoofed_store(port).await;
    // A whole control plane of the attacker's, with a policy server whose
    // certificate names linkerd-policy exactly, under an anchor of its own.
    let spoof = tls_control_plane("spoof", &store, &trust_root(), &[(NS, "bb")]).await;
    spoof.plugins.offer(attacker_plugin()).unwrap();
    spoof_policy(spoof.policy.local_addr(), &mesh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_never_sends_its_token_to_an_identity_service_that_cannot_prove_itself() {
    let store = MemoryStore::new();
    guide(&store, free_port());
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let plane = tls_control_plane("local", &store, &root, &[(NS, "bb")]).await;
    // An impostor listening where the proxy looks for identity, recording
    // everything it is sent.
    let impostor = TcpListener::bind(any_port()).await.unwrap();
    let mut addrs = plane.addrs();
    addrs.identity.0 = impostor.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let recording = {
        let (received, connections) = (received.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = impostor.accept().await {
                connections.fetch_add(1, Ordering::Relaxed);
                let received = received.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0; 4096];
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        received.lock().extend_from_slice(&buf[..n]);
                    }
                });
            }
        })
    };
    let config = strait_proxy_integration::proxy_config(spec(
        "bb",
        "127.0.0.1",
        "bb-1",
        &anchors,
        &addrs,
        Vec::new(),
    ));
    let running = strait_proxy::start(config).await.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while connections.load(Ordering::Relaxed) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the proxy never dialled identity"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !running.wait_ready(Duration::from_secs(2)).await,
        "certified by an impostor"
    );
    let bytes = received.lock().clone();
    assert_eq!(
        bytes.first(),
        Some(&0x16),
        "the proxy opens with a TLS handshake"
    );
    assert!(
        !bytes.windows(b"bb-token".len()).any(|w| w == b"bb-token"),
        "the token never leaves in clear"
    );
    recording.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_cannot_read_another_pods_policy() {
    let store = MemoryStore::new();
    let port = free_port();
    guide(&store, port);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let plane = tls_control_plane(
        "local",
        &store,
        &root,
        &[(NS, "bb"), (NS, "slow-cooker-evil")],
    )
    .await;
    let roots = TrustRoots::from_pem("anchors", anchors.as_bytes()).unwrap();
    let addrs = plane.addrs();
    // slow-cooker-evil's genuine certificate, through its own proxy.
    let evil = proxy(spec(
        "slow-cooker-evil",
        EVIL_IP,
        "slow-cooker-evil-1",
        &anchors,
        &addrs,
        Vec::new(),
    ))
    .await;
    let credentials = evil.credentials();
    wait_for_credentials(&mut credentials.clone()).await;
    let policy_name = addrs.policy.1.clone().unwrap();
    let bb_port = PortSpec {
        workload: format!(r#"{{"ns":"{NS}","pod":"bb-1"}}"#),
        port: u32::from(port),
    };
    let as_evil = control::channel(
        "policy",
        &addrs.policy.0.to_string(),
        ControlTls::Tls {
            server: policy_name.clone(),
            roots: roots.clone(),
            client: Some(credentials),
        },
    )
    .unwrap();
    let status = InboundServerPoliciesClient::new(as_evil)
        .get_port(bb_port.clone())
        .await
        .expect_err("another pod's policy");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains(&identity("slow-cooker-evil", NS)));

    // Without a certificate, the handshake itself fails.
    let anonymous = control::channel(
        "policy",
        &addrs.policy.0.to_string(),
        ControlTls::Tls {
            server: policy_name,
            roots,
            client: None,
        },
    )
    .unwrap();
    let status = InboundServerPoliciesClient::new(anonymous)
        .get_port(bb_port.clone())
        .await
        .expect_err("no certificate");
    // The connection is refused (the alert or the close races with the
    // request), so the service itself never answers.
    assert!(
        !matches!(
            status.code(),
            tonic::Code::PermissionDenied | tonic::Code::NotFound | tonic::Code::Unauthenticated
        ),
        "refused at the handshake, not by the service: {status:?}"
    );

    // Nor does plaintext get an answer.
    let plaintext = tonic::transport::Endpoint::from_shared(format!("http://{}", addrs.policy.0))
        .unwrap()
        .connect_lazy();
    let status = InboundServerPoliciesClient::new(plaintext)
        .get_port(bb_port)
        .await
        .expect_err("plaintext");
    assert!(
        !matches!(
            status.code(),
            tonic::Code::PermissionDenied | tonic::Code::NotFound | tonic::Code::Unauthenticated
        ),
        "no answer over plaintext: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_proxy_runs_only_the_pinned_plugin() {
    let store = MemoryStore::new();
    let port = free_port();
    guide(&store, port);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let plane = tls_control_plane("local", &store, &root, &[(NS, "bb")]).await;
    let allowed = attacker_plugin().wasm;
    let allowed_digest = strait_mesh::plugins::plugin_digest(&allowed);
    let app = bb_app().await;
    let bb = proxy(ProxySpec {
        pinned: Some(BTreeSet::from([allowed_digest.clone()])),
        ..spec(
            "bb",
            "127.0.0.1",
            "bb-1",
            &anchors,
            &plane.addrs(),
            vec![DirectInbound {
                listen: format!("127.0.0.1:{port}").parse().unwrap(),
                app,
            }],
        )
    })
    .await;
    let built_in = bb.authz_plugin().active().digest.clone();
    let unpinned = OfferedPlugin {
        version: "unpinned".to_string(),
        wasm: strait_default_plugins::fixtures::with_custom_section(
            strait_default_plugins::AUTHZ_DEFAULT,
            "other",
            b"unpinned",
        )
        .into(),
        ..attacker_plugin()
    };
    plane.plugins.offer(unpinned).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        bb.authz_plugin().active().digest,
        built_in,
        "an unpinned plugin is refused"
    );
    plane
        .plugins
        .offer(OfferedPlugin {
            version: "pinned".to_string(),
            wasm: allowed,
            ..attacker_plugin()
        })
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while bb.authz_plugin().active().digest != allowed_digest {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pinned plugin never loaded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
