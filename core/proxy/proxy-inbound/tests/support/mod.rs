//! Shared setup of the end-to-end tests: a real policy server on loopback
//! fed from a `MemoryStore`, the built-in authz plugin, a test application,
//! and a loopback listener handing each accepted connection to
//! `Inbound::serve_connection` with a chosen client.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use linkerd2_proxy_api::inbound::inbound_server_policies_client::InboundServerPoliciesClient;
use parking_lot::Mutex;
use serde_json::Value;
use strait_decisions::authz::ClientTls;
use strait_plugin_host::{AuthzPlugin, PluginBytes, PluginHost};
use strait_policy::{Index, IndexConfig};
use strait_policy_server::{InboundPolicyService, IndexSource, feed};
use strait_proxy_inbound::{
    ClientInfo, Forward, Inbound, InboundConfig, PolicyWatcher, WatcherConfig,
};
use strait_proxy_metrics::ProxyMetrics;
use strait_store::MemoryStore;
use strait_test_support::{eventually_within, guide, objects, plugins};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tonic::service::Routes;
use tonic::transport::Channel;

pub const NS: &str = guide::NS;
pub const SLOW_COOKER: &str = guide::SLOW_COOKER;
pub const EVIL: &str = guide::EVIL;
pub use strait_test_support::store::apply;
/// The guide's HTTP port, selected by Server `bb`.
pub const HTTP_PORT: u16 = 8080;
/// A port selected by the opaque Server `bb-tcp`.
pub const OPAQUE_PORT: u16 = 9000;
/// The pod's address, as clients connect to it.
pub const POD_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 42, 0, 10));
/// The client's address: not loopback, which policy always admits.
pub const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 42, 0, 7));
pub const AUTHORITY: &str = guide::BB_AUTHORITY;
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Deletes the named object of `kind` (e.g. `AuthorizationPolicy`).
pub fn delete(store: &MemoryStore, kind: &str, name: &str) {
    strait_test_support::store::delete_named(store, kind, NS, name);
}

/// A `bb` pod of the guide.
fn bb_pod(name: &str) -> Value {
    objects::pod(NS, name)
        .label("app", "bb")
        .container("bb", &[("http", 8080)])
        .build()
}

fn mesh_tls_bb_good(store: &MemoryStore) {
    apply(
        store,
        objects::mesh_tls_authentication(NS, "bb-good", &[SLOW_COOKER]),
    );
}

fn server_and_authz(store: &MemoryStore, server: &str, port: u16, protocol: &str, authz: &str) {
    apply(
        store,
        objects::server_with_protocol(NS, server, "bb", port, protocol),
    );
    apply(
        store,
        objects::authorization_policy(NS, authz, server, "bb-good"),
    );
}

/// Step 6 of the pod-to-pod guide: Server `bb` on 8080, `bb-authz`
/// requiring `bb-good` (slow-cooker's identity).
pub fn guide_policy(store: &MemoryStore) {
    mesh_tls_bb_good(store);
    server_and_authz(store, "bb", HTTP_PORT, "unknown", "bb-authz");
}

/// The same rule for an opaque Server `bb-tcp` on 9000.
pub fn opaque_policy(store: &MemoryStore) {
    mesh_tls_bb_good(store);
    server_and_authz(store, "bb-tcp", OPAQUE_PORT, "opaque", "bb-tcp-authz");
}

/// The control plane's side: store, index, feeder and policy server.
pub struct Mesh {
    pub store: MemoryStore,
    pub client: InboundServerPoliciesClient<Channel>,
}

pub async fn mesh() -> Mesh {
    let store = MemoryStore::new();
    strait_test_support::store::namespaces(&store, &[NS]);
    apply(&store, bb_pod("bb-1"));
    let index = Arc::new(Mutex::new(Index::new(IndexConfig::default())));
    let (publish, changes) = watch::channel(0);
    tokio::spawn(feed(store.clone(), index.clone(), publish));
    let service = InboundPolicyService::new(IndexSource::new(index, changes)).into_server();
    let addr = strait_test_support::grpc::serve(Routes::new(service)).await;
    let client = InboundServerPoliciesClient::new(strait_test_support::grpc::channel(addr).await);
    Mesh { store, client }
}

pub fn workload(pod: &str) -> String {
    guide::workload(NS, pod)
}

pub fn plugin_bytes(version: Option<&str>) -> PluginBytes {
    plugins::builtin_authz_bytes(version)
}

/// The built-in authz plugin, and the host it runs in.
pub fn authz_plugin() -> (PluginHost, Arc<AuthzPlugin>) {
    let host = plugins::host();
    let plugin = plugins::builtin_authz(&host);
    (host, plugin)
}

/// A test application: answers every HTTP/1 or HTTP/2 request with 200 and
/// `hello from bb <path>`, counting requests.
pub struct App {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicUsize>,
    pub connections: Arc<AtomicUsize>,
}

pub async fn http_app() -> App {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind app");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(AtomicUsize::new(0));
    let connections = Arc::new(AtomicUsize::new(0));
    let (counting, accepted) = (requests.clone(), connections.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let counting = counting.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    counting.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let text = format!("hello from bb {}", request.uri().path());
                        // How the request arrived, for tests of the HTTP/2
                        // downgrade: version, Host, and the target's form.
                        let host = request
                            .headers()
                            .get("host")
                            .and_then(|h| h.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        // The identity header as the app got it.
                        let client_id = request
                            .headers()
                            .get_all("l5d-client-id")
                            .iter()
                            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                            .collect::<Vec<_>>()
                            .join(",");
                        let response = Response::builder()
                            .header("x-l5d-client-id", client_id)
                            .header("x-version", format!("{:?}", request.version()))
                            .header("x-host", host)
                            .header("x-target", request.uri().to_string())
                            .body(Full::new(Bytes::from(text)))
                            .expect("response");
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    App {
        addr,
        requests,
        connections,
    }
}

/// A TCP echo application, counting connections.
pub async fn echo_app() -> App {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind app");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    App {
        addr,
        requests: Arc::new(AtomicUsize::new(0)),
        connections,
    }
}

/// The inbound side under test, with its metrics and plugin.
pub struct Proxy {
    pub inbound: Inbound,
    /// The watcher of its ports' policies (shared with `inbound`).
    pub watcher: PolicyWatcher,
    pub metrics: ProxyMetrics,
    pub plugin: Arc<AuthzPlugin>,
    _host: PluginHost,
}

pub fn proxy(mesh: &Mesh, pod: &str, app: SocketAddr, policy_timeout: Duration) -> Proxy {
    proxy_with(mesh, pod, forwarding_to(app, policy_timeout))
}

/// Every port forwarded to `app`, waiting `policy_timeout` for a policy.
pub fn forwarding_to(app: SocketAddr, policy_timeout: Duration) -> InboundConfig {
    let mut config = InboundConfig::new(Forward::With(Arc::new(move |_| Some(app))));
    config.policy_timeout = policy_timeout;
    config
}

/// The inbound side of `pod` configured by `config` (its detect timeout
/// shortened for tests).
pub fn proxy_with(mesh: &Mesh, pod: &str, config: InboundConfig) -> Proxy {
    proxy_with_metrics(mesh, pod, config, ProxyMetrics::new())
}

/// [`proxy_with`], recording into `metrics`.
pub fn proxy_with_metrics(
    mesh: &Mesh,
    pod: &str,
    mut config: InboundConfig,
    metrics: ProxyMetrics,
) -> Proxy {
    let watching = WatcherConfig {
        first_policy_timeout: config.policy_timeout,
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..WatcherConfig::default()
    };
    config.detect_timeout = Duration::from_secs(2);
    proxy_watching(mesh, pod, config, metrics, watching)
}

/// [`proxy_with_metrics`] with the policy watcher configured by `watching`.
pub fn proxy_watching(
    mesh: &Mesh,
    pod: &str,
    config: InboundConfig,
    metrics: ProxyMetrics,
    watching: WatcherConfig,
) -> Proxy {
    let (host, plugin) = authz_plugin();
    let watcher = PolicyWatcher::with_config(mesh.client.clone(), workload(pod), watching);
    let inbound = Inbound::new(config, watcher.clone(), plugin.clone(), metrics.clone());
    Proxy {
        inbound,
        watcher,
        metrics,
        plugin,
        _host: host,
    }
}

impl Proxy {
    /// A loopback listener whose connections are served as if from
    /// `CLIENT_IP` with `tls`, to `POD_IP:port`.
    pub async fn listen(&self, tls: ClientTls, port: u16) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let inbound = self.inbound.clone();
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let client = ClientInfo {
                    addr: SocketAddr::new(CLIENT_IP, peer.port()),
                    tls: tls.clone(),
                };
                let inbound = inbound.clone();
                tokio::spawn(async move {
                    inbound
                        .serve_connection(stream, client, SocketAddr::new(POD_IP, port))
                        .await;
                });
            }
        });
        addr
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut registry = prometheus_client::registry::Registry::default();
        self.metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        text
    }
}

pub fn mtls(identity: &str) -> ClientTls {
    ClientTls::Mtls(identity.to_string())
}

pub type H1 = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
pub type H2 = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

pub async fn h1(addr: SocketAddr) -> H1 {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

pub async fn h2(addr: SocketAddr) -> H2 {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    sender
}

pub fn get(path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .uri(path)
        .header("host", AUTHORITY)
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// Sends on HTTP/1 and reads the whole answer.
pub async fn send1(sender: &mut H1, request: Request<Full<Bytes>>) -> (StatusCode, String) {
    sender.ready().await.expect("ready");
    let response = sender.send_request(request).await.expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Waits until `policy` is served for the pod port (the feeder applies
/// the store asynchronously), so tests start from the intended policy.
pub async fn wait_for_server(mesh: &Mesh, port: u16, name: &str) {
    let mut client = mesh.client.clone();
    eventually_within(
        PATIENCE,
        format_args!("policy {name} served on {port}"),
        async || {
            let spec = linkerd2_proxy_api::inbound::PortSpec {
                workload: workload("bb-1"),
                port: u32::from(port),
            };
            let Ok(server) = client.get_port(spec).await else {
                return false;
            };
            let server = server.into_inner();
            server.labels.get("name").map(String::as_str) == Some(name)
                && server.authorizations.iter().any(|a| {
                    a.labels.get("kind").map(String::as_str) == Some("authorizationpolicy")
                })
        },
    )
    .await;
}
