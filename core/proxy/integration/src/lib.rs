//! The proxy's end-to-end tests and benchmark, and the loopback mesh they
//! share.
//!
//! They run real control planes (identity, policy and destination over an
//! embedded store) as the proxy's peers, which the proxy itself must not
//! depend on: keeping them here, as linkerd2-proxy keeps its end-to-end
//! tests in `linkerd/app/integration`, leaves `strait-proxy`'s dependency
//! tree free of the control plane (`strait-architecture`'s tests check
//! it).
//!
//! This library is what the tests and the benchmark have in common: the
//! guide's resources, a control plane per cluster, proxies of the guide's
//! workloads, a bb app, an app that takes HTTP upgrades
//! ([`upgrade_app`]), and plain HTTP/1.1 calls. Every pod has an address
//! of its own in 127.0.0.0/8, which Linux routes on loopback.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use strait_control_plane::{ControlPlane, RunningControlPlane, ServerTransport};
use strait_destination::ClusterConfig;
use strait_destination_server::connect_embedded;
use strait_identity::{EmbeddedTokens, ServiceAccountRef, SigningCa};
use strait_mesh::names::{Component, DEFAULT_TRUST_DOMAIN, DESTINATION, IDENTITY, POLICY};
use strait_plugin_distribution::PluginOffer;
use strait_policy::IndexConfig;
use strait_proxy::{DirectInbound, IdentityConfig, ProxyConfig, RunningProxy, TokenConfig};
use strait_runtime::tls::{Certification, Certifying, ControllerTls};
use strait_store::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub mod apps;
pub mod pods;
pub mod upgrade_app;

pub use strait_mesh::names::CONTROL_PLANE_NAMESPACE as CONTROL_PLANE_NS;
pub use strait_test_support::guide::{NS, identity};
pub use strait_test_support::identity::{DAY, ROOT_NAME, trust_root};
pub use strait_test_support::net::{any_port, free_port};
pub use strait_test_support::poll::PATIENCE;
pub use strait_test_support::store::{apply, apply_all, namespaces};

/// bb's pod (ServiceAccount `bb`, at 127.0.0.1), its Service at
/// `cluster_ip` and the Service's endpoints, all on `port`.
pub fn bb_workload(store: &MemoryStore, port: u16, cluster_ip: &str) {
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bb-1", "namespace": NS, "labels": {"app": "bb"}},
            "spec": {"serviceAccountName": "bb", "containers": [
                {"name": "bb", "ports": [{"name": "http", "containerPort": port}]},
                {"name": "linkerd-proxy"}
            ]}
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "bb", "namespace": NS},
            "spec": {"clusterIP": cluster_ip, "selector": {"app": "bb"},
                     "ports": [{"name": "http", "port": port, "targetPort": port}]}
        }),
    );
    apply(
        store,
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "bb-slice", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": "bb"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true},
                           "targetRef": {"kind": "Pod", "name": "bb-1", "namespace": NS}}],
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}]
        }),
    );
}

/// The guide's single cluster: bb on `port` with the guide's Server and the
/// AuthorizationPolicy admitting only slow-cooker's identity.
pub fn guide(store: &MemoryStore, port: u16) {
    namespaces(store, &[NS, CONTROL_PLANE_NS]);
    bb_workload(store, port, "10.96.0.10");
    apply_all(store, strait_test_support::guide::policy(port));
}

/// Cluster `cluster`'s control plane over `store`, on a free loopback
/// port: identity with an issuer under `root` (tokens `<sa>-token` prove
/// the `(namespace, sa)` accounts given), policy, and destination. The
/// offer is the handle that pushes authz plugins to its proxies; dropping
/// it ends their plugin streams.
pub async fn control_plane(
    cluster: &str,
    store: &MemoryStore,
    root: &SigningCa,
    accounts: &[(&str, &str)],
) -> (RunningControlPlane, PluginOffer) {
    let plugins = PluginOffer::new();
    let tokens = EmbeddedTokens::new();
    for (ns, sa) in accounts {
        tokens.register(format!("{sa}-token"), ServiceAccountRef::new(*ns, *sa));
    }
    let running =
        strait_test_support::mesh::control_plane(cluster, store, root, tokens, &plugins).await;
    (running, plugins)
}

/// A cluster's control plane as the Kubernetes controllers serve it: three
/// servers, identity over TLS with a certificate from its own issuer,
/// destination and policy over mTLS with certificates they obtain from
/// identity with their ServiceAccounts' tokens, as on a cluster.
pub struct TlsControlPlane {
    /// The identity service.
    pub identity: RunningControlPlane,
    /// The destination service.
    pub destination: RunningControlPlane,
    /// The policy service (and plugin distribution).
    pub policy: RunningControlPlane,
    /// The handle that pushes authz plugins to its proxies.
    pub plugins: PluginOffer,
    _certifying: Vec<Certifying>,
    _files: TempFiles,
}

impl TlsControlPlane {
    /// How a proxy reaches this control plane, each server verified by
    /// its identity.
    pub fn addrs(&self) -> ControlAddrs {
        let names = |component: &Component| {
            Some(component.identity(CONTROL_PLANE_NS, DEFAULT_TRUST_DOMAIN))
        };
        ControlAddrs {
            identity: (self.identity.local_addr(), names(&IDENTITY)),
            destination: (self.destination.local_addr(), names(&DESTINATION)),
            policy: (self.policy.local_addr(), names(&POLICY)),
        }
    }
}

/// Where a proxy finds each control-plane service, and the identity it must
/// prove (none: plaintext on loopback).
#[derive(Clone, Debug)]
pub struct ControlAddrs {
    /// The identity service.
    pub identity: (SocketAddr, Option<String>),
    /// The destination service.
    pub destination: (SocketAddr, Option<String>),
    /// The policy service.
    pub policy: (SocketAddr, Option<String>),
}

/// Files removed when dropped.
struct TempFiles(std::path::PathBuf);

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Cluster `cluster`'s control plane over `store` as [`TlsControlPlane`]
/// describes, under `root`, for the `(namespace, sa)` accounts given
/// (tokens `<sa>-token`); returns once every server holds its certificate.
pub async fn tls_control_plane(
    cluster: &str,
    store: &MemoryStore,
    root: &SigningCa,
    accounts: &[(&str, &str)],
) -> TlsControlPlane {
    tls_control_plane_at(cluster, store, root, accounts, any_port().ip()).await
}

/// [`tls_control_plane`] with its three servers on `ip` (a node's address
/// that pods in their own network namespaces reach).
pub async fn tls_control_plane_at(
    cluster: &str,
    store: &MemoryStore,
    root: &SigningCa,
    accounts: &[(&str, &str)],
    ip: IpAddr,
) -> TlsControlPlane {
    let any_port = || SocketAddr::new(ip, 0);
    let plugins = PluginOffer::new();
    let tokens = EmbeddedTokens::new();
    let controllers = [
        (CONTROL_PLANE_NS, DESTINATION.workload),
        (CONTROL_PLANE_NS, POLICY.workload),
    ];
    for (ns, sa) in accounts.iter().chain(controllers.iter()) {
        tokens.register(format!("{sa}-token"), ServiceAccountRef::new(*ns, *sa));
    }
    let dir = std::env::temp_dir().join(format!(
        "strait-tls-plane-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let anchors = dir.join("ca-bundle.crt");
    std::fs::write(&anchors, root.as_trust_anchor().to_pem()).expect("the anchors file");

    let certifier = strait_test_support::identity::certifier(root, &format!("identity.{cluster}"));
    let own = ControllerTls::SelfIssued {
        name: IDENTITY.identity(CONTROL_PLANE_NS, DEFAULT_TRUST_DOMAIN),
    };
    let (transport, identity_certifying) = own
        .transport("identity", Some(&certifier))
        .expect("identity's TLS");
    certified(&transport).await;
    let identity = ControlPlane::new()
        .with_identity(certifier, tokens)
        .serve_with(any_port(), transport)
        .await
        .expect("identity serves");

    let tls = |component: &Component| {
        let token = dir.join(format!("{}-token", component.workload));
        std::fs::write(&token, format!("{}-token", component.workload)).expect("a token file");
        ControllerTls::Certified(Certification {
            local_name: component.identity(CONTROL_PLANE_NS, DEFAULT_TRUST_DOMAIN),
            token_file: token,
            trust_anchors_file: anchors.clone(),
            identity_addr: identity.local_addr().to_string(),
            identity_name: IDENTITY.identity(CONTROL_PLANE_NS, DEFAULT_TRUST_DOMAIN),
        })
    };
    let (transport, destination_certifying) = tls(&DESTINATION)
        .transport("destination", None)
        .expect("destination's TLS");
    certified(&transport).await;
    let clusters = Arc::new(BTreeMap::from([(cluster.to_string(), store.clone())]));
    let destination = ControlPlane::new()
        .with_destination(
            store.clone(),
            cluster,
            ClusterConfig::default(),
            strait_mesh::names::LINK_NAMESPACE,
            connect_embedded(clusters),
        )
        .serve_with(any_port(), transport)
        .await
        .expect("destination serves");
    let (transport, policy_certifying) = tls(&POLICY)
        .transport("policy", None)
        .expect("policy's TLS");
    certified(&transport).await;
    let policy = ControlPlane::new()
        .with_policy(store.clone(), IndexConfig::default(), &plugins)
        .serve_with(any_port(), transport)
        .await
        .expect("policy serves");
    TlsControlPlane {
        identity,
        destination,
        policy,
        plugins,
        _certifying: vec![
            identity_certifying,
            destination_certifying,
            policy_certifying,
        ],
        _files: TempFiles(dir),
    }
}

/// Waits until a TLS transport holds its first certificate.
async fn certified(transport: &ServerTransport) {
    if let ServerTransport::Tls(configs) = transport {
        let mut configs = configs.clone();
        tokio::time::timeout(PATIENCE, configs.wait_for(Option::is_some))
            .await
            .expect("the controller is certified in time")
            .expect("the controller keeps certifying");
    }
}

/// One proxy, as the tests run it in-process.
pub struct ProxySpec<'a> {
    /// Its ServiceAccount: the identity it is certified for, and its token.
    pub sa: &'a str,
    /// Its pod's namespace.
    pub ns: &'a str,
    /// Its pod's name.
    pub pod: &'a str,
    /// The pod's address: outbound connections leave from it.
    pub ip: &'a str,
    /// The trust anchors, PEM.
    pub anchors: &'a str,
    /// The identity service that certifies it.
    pub identity_addr: SocketAddr,
    /// The policy and destination services it asks.
    pub control_addr: SocketAddr,
    /// Where redirected inbound connections are accepted.
    pub inbound: SocketAddr,
    /// Inbound ports bound directly, each in front of an app.
    pub direct: Vec<DirectInbound>,
    /// Whether it runs as a multicluster gateway.
    pub gateway: bool,
    /// The labels on all its metrics.
    pub metric_labels: BTreeMap<String, String>,
    /// A control plane over TLS instead of `identity_addr` and
    /// `control_addr` in plaintext.
    pub tls: Option<ControlAddrs>,
    /// The only authz plugins the proxy takes, by digest.
    pub pinned: Option<BTreeSet<String>>,
}

/// The configuration of the proxy `spec` describes.
pub fn proxy_config(spec: ProxySpec<'_>) -> ProxyConfig {
    let workload = json!({"ns": spec.ns, "pod": spec.pod}).to_string();
    let addrs = spec.tls.clone().unwrap_or(ControlAddrs {
        identity: (spec.identity_addr, None),
        destination: (spec.control_addr, None),
        policy: (spec.control_addr, None),
    });
    ProxyConfig {
        inbound_listen_addr: spec.inbound,
        inbound_direct: spec.direct,
        outbound_listen_addr: any_port(),
        admin_listen_addr: any_port(),
        probe_listen_addr: None,
        identity: IdentityConfig {
            local_name: identity(spec.sa, spec.ns),
            trust_anchors_pem: spec.anchors.to_string(),
            token: TokenConfig::Value(format!("{}-token", spec.sa).into_bytes()),
            service_addr: addrs.identity.0.to_string(),
            service_name: addrs.identity.1,
        },
        destination_addr: addrs.destination.0.to_string(),
        destination_name: addrs.destination.1,
        destination_context: workload.clone(),
        policy_addr: addrs.policy.0.to_string(),
        policy_name: addrs.policy.1,
        authz_plugin_digests: spec.pinned,
        policy_workload: workload,
        gateway: spec.gateway,
        gateway_suffixes: strait_proxy::default_gateway_suffixes(),
        // As the injector configures a sidecar (a gateway trusts none).
        trusted_gateways: if spec.gateway {
            BTreeSet::new()
        } else {
            BTreeSet::from([identity("linkerd-gateway", "linkerd-multicluster")])
        },
        metric_labels: spec.metric_labels,
        detect_timeout: Duration::from_secs(1),
        source_ip: Some(spec.ip.parse().expect("a pod address")),
        metrics_retain_idle: strait_proxy::DEFAULT_RETAIN_IDLE,
        plugin_max_instances: strait_proxy::DEFAULT_PLUGIN_MAX_INSTANCES,
    }
}

/// Starts the proxy `spec` describes and waits until it is certified.
pub async fn proxy(spec: ProxySpec<'_>) -> RunningProxy {
    let sa = spec.sa;
    let running = strait_proxy::start(proxy_config(spec))
        .await
        .expect("the proxy starts");
    assert!(running.wait_ready(PATIENCE).await, "{sa} never certified");
    running
}

/// The bb app: answers every HTTP/1.1 request with 200 and "bb says hi".
pub async fn bb_app() -> SocketAddr {
    let listener = TcpListener::bind(any_port()).await.expect("bind bb");
    let addr = listener.local_addr().expect("bb's address");
    bb_app_on(listener);
    addr
}

/// The bb app of [`bb_app`] on a listener the caller bound (in a pod's
/// network namespace, say).
pub fn bb_app_on(listener: TcpListener) {
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let body = "bb says hi";
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if stream.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
}

/// `GET path` with `Host: host` over a fresh connection from `from` (a
/// pod's address, written as the tests write it), closed after the
/// answer: its status code (0 when there was none) and body.
pub async fn http_get(from: &str, to: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let from: IpAddr = match from.parse() {
        Ok(from) => from,
        Err(e) => panic!("{from:?} is not a pod address: {e}"),
    };
    strait_test_support::net::http_get(from, to, host, path).await
}

/// A connection to `to` from the pod address `from`, for tests that speak
/// more than one request, or a tunnel, over it.
pub async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let from: IpAddr = match from.parse() {
        Ok(from) => from,
        Err(e) => panic!("{from:?} is not a pod address: {e}"),
    };
    match strait_test_support::net::connect_from(from, to).await {
        Some(stream) => stream,
        None => panic!("{from} could not connect to {to}"),
    }
}

/// `GET /` from `from` until the status is `expected` (the control plane's
/// indexes fill asynchronously) or [`PATIENCE`] runs out; the last answer.
pub async fn request_until(from: &str, to: SocketAddr, host: &str, expected: u16) -> (u16, String) {
    request_path_until(from, to, host, "/", expected).await
}

/// [`request_until`] for `GET <path>`.
pub async fn request_path_until(
    from: &str,
    to: SocketAddr,
    host: &str,
    path: &str,
    expected: u16,
) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answer = http_get(from, to, host, path).await;
        if answer.0 == expected || tokio::time::Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The Prometheus text a proxy's admin port serves.
pub async fn metrics(admin: SocketAddr) -> String {
    http_get("127.0.0.1", admin, "admin", "/metrics").await.1
}
