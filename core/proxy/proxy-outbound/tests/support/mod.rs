//! A destination server on loopback fed by a `MemoryStore`, real HTTP
//! backends, a connector that records what it was asked to verify, and
//! the outbound side listening on loopback.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use parking_lot::Mutex;
use serde_json::{Value, json};
use strait_destination::{ClusterConfig, ResolutionKey};
use strait_destination_server::{DestinationService, SharedClusters, feed_cluster};
use strait_proxy_metrics::ProxyMetrics;
use strait_proxy_outbound::{
    Connect, Discovery, DiscoveryConfig, EndpointTarget, GatewayScope, Outbound, OutboundConfig,
    context_token,
};
use strait_store::{ClusterStore, MemoryStore};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub const NS: &str = "mc-demo";
pub const PATIENCE: Duration = Duration::from_secs(5);
pub const BB: &str = "bb.mc-demo.svc.cluster.local:8080";
pub const BB_CLUSTER_IP: &str = "10.96.0.10";
pub const BB_IDENTITY: &str = "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local";

pub use strait_test_support::store::apply;

/// A Service with one port `http` = `port` whose targetPort is the named
/// container port `target`, so every backend pod can listen on its own
/// loopback port.
pub fn service(name: &str, cluster_ip: &str, port: u16, target: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"clusterIP": cluster_ip,
                 "ports": [{"name": "http", "port": port, "targetPort": target}]}
    })
}

/// A pod running as `sa` whose container port `port_name` is `port`, with
/// a proxy when `meshed`.
pub fn pod(name: &str, sa: &str, port_name: &str, port: u16, meshed: bool) -> Value {
    let mut containers =
        vec![json!({"name": "app", "ports": [{"name": port_name, "containerPort": port}]})];
    if meshed {
        containers.push(json!({"name": "linkerd-proxy"}));
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"serviceAccountName": sa, "containers": containers},
        "status": {"podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]}
    })
}

/// An EndpointSlice of `service` listing `pods` (all ready, on 127.0.0.1).
pub fn slice(name: &str, service: &str, port: u16, pods: &[&str], ready: bool) -> Value {
    let endpoints: Vec<Value> = pods
        .iter()
        .map(|pod| {
            json!({
                "addresses": ["127.0.0.1"],
                "conditions": {"ready": ready},
                "targetRef": {"kind": "Pod", "name": pod, "namespace": NS}
            })
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}]
    })
}

/// Waits until the index has `count` endpoints for `service:port`.
pub async fn settle(index: &SharedClusters, service: &str, port: u16, count: usize) {
    let key = ResolutionKey::new("west", NS, service, port);
    strait_test_support::poll::eventually_within(
        PATIENCE,
        format_args!("{service}:{port} having {count} endpoints"),
        async || {
            index
                .read(|c| c.endpoints(&key))
                .is_some_and(|s| s.len() == count)
        },
    )
    .await;
}

/// The control plane: a store, the index it feeds and a destination server
/// on loopback.
pub struct ControlPlane {
    pub store: MemoryStore,
    pub index: SharedClusters,
    pub addr: SocketAddr,
}

pub async fn control_plane() -> ControlPlane {
    let store = MemoryStore::new();
    apply(
        &store,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    );
    let index = SharedClusters::new();
    index.insert_cluster("west", ClusterConfig::default());
    tokio::spawn(feed_cluster(
        store.clone(),
        "west".to_string(),
        index.clone(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = DestinationService::new(index.clone(), "west").into_server();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    ControlPlane { store, index, addr }
}

/// A backend answering every request with its name (and the HTTP version
/// it was asked in, with the `l5d-orig-proto` it was sent), counting them.
pub struct Backend {
    pub name: String,
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
}

impl Backend {
    pub async fn start(name: &str) -> Backend {
        Backend::start_with_delay(name, Duration::ZERO).await
    }

    pub async fn start_with_delay(name: &str, delay: Duration) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let (stop, mut stopped) = oneshot::channel();
        let task_hits = hits.clone();
        let task_name = name.to_string();
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(_) => continue,
                    },
                    _ = &mut stopped => return,
                };
                let hits = task_hits.clone();
                let name = task_name.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let hits = hits.clone();
                        let name = name.clone();
                        async move {
                            let version = format!("{:?}", request.version());
                            let orig_proto = request
                                .headers()
                                .get("l5d-orig-proto")
                                .and_then(|h| h.to_str().ok())
                                .unwrap_or("")
                                .to_string();
                            let authority = request
                                .headers()
                                .get(http::header::HOST)
                                .and_then(|h| h.to_str().ok())
                                .map(str::to_string)
                                .or_else(|| request.uri().authority().map(|a| a.to_string()))
                                .unwrap_or_default();
                            let body = request.into_body().collect().await.map(|b| b.to_bytes());
                            if !delay.is_zero() {
                                tokio::time::sleep(delay).await;
                            }
                            hits.fetch_add(1, Ordering::SeqCst);
                            let response = Response::builder()
                                .header("x-backend", name.as_str())
                                .header("x-version", version)
                                .header("x-orig-proto", orig_proto)
                                .header("x-authority", authority)
                                .header("x-body-len", body.map(|b| b.len()).unwrap_or(usize::MAX))
                                .body(Full::new(Bytes::from(name)))
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
        Backend {
            name: name.to_string(),
            addr,
            hits,
            stop: Some(stop),
        }
    }

    /// Stops accepting connections (those open go on).
    pub fn stop_accepting(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An echo server for opaque TCP.
pub async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    addr
}

/// Plain TCP that records the identity it was asked to verify for each
/// address.
#[derive(Clone, Default)]
pub struct RecordingConnect {
    pub seen: Arc<Mutex<BTreeMap<SocketAddr, Option<String>>>>,
    pub connects: Arc<AtomicUsize>,
}

impl Connect for RecordingConnect {
    type Io = TcpStream;

    async fn connect(&self, endpoint: &EndpointTarget) -> io::Result<TcpStream> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        self.seen
            .lock()
            .insert(endpoint.addr, endpoint.identity.clone());
        TcpStream::connect(endpoint.addr).await
    }
}

pub fn test_config() -> OutboundConfig {
    OutboundConfig {
        detect_timeout: Duration::from_millis(500),
        no_endpoints_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        ..OutboundConfig::default()
    }
}

/// The outbound side listening on loopback; every connection is taken to
/// have been sent to `orig_dst`.
pub struct Proxy {
    pub addr: SocketAddr,
    pub outbound: Outbound<RecordingConnect>,
    pub discovery: Discovery,
    pub connect: RecordingConnect,
    pub metrics: ProxyMetrics,
}

/// What the outbound side under test is built with.
pub struct Setup {
    pub outbound: OutboundConfig,
    pub discovery: DiscoveryConfig,
    pub metrics: ProxyMetrics,
}

impl Default for Setup {
    /// [`test_config`], streams kept 5 s unused, default metrics.
    fn default() -> Self {
        Setup {
            outbound: test_config(),
            discovery: DiscoveryConfig {
                idle_timeout: Duration::from_secs(5),
                ..DiscoveryConfig::default()
            },
            metrics: ProxyMetrics::new(),
        }
    }
}

pub async fn proxy(control_plane: &ControlPlane, orig_dst: Option<SocketAddr>) -> Proxy {
    serving(control_plane, Serve::Sidecar(orig_dst), Setup::default()).await
}

/// The outbound side serving as a multicluster gateway for `scope`, on
/// loopback (the gateway's TLS, terminated before, is left out).
pub async fn gateway(control_plane: &ControlPlane, scope: GatewayScope) -> Proxy {
    gateway_with(control_plane, scope, Setup::default()).await
}

/// [`gateway`], built with `setup`.
pub async fn gateway_with(
    control_plane: &ControlPlane,
    scope: GatewayScope,
    setup: Setup,
) -> Proxy {
    serving(control_plane, Serve::Gateway(Arc::new(scope)), setup).await
}

/// How accepted connections are served.
#[derive(Clone)]
enum Serve {
    /// As a sidecar's, each taken to have been sent to the address.
    Sidecar(Option<SocketAddr>),
    /// As a gateway's.
    Gateway(Arc<GatewayScope>),
}

async fn serving(control_plane: &ControlPlane, serve: Serve, setup: Setup) -> Proxy {
    let client = DestinationClient::connect(format!("http://{}", control_plane.addr))
        .await
        .expect("connect to the destination server");
    let discovery = Discovery::with_config(
        client,
        context_token(NS, "node-1", "client-1"),
        setup.discovery,
    );
    let connect = RecordingConnect::default();
    let metrics = setup.metrics;
    let outbound = Outbound::new(
        setup.outbound,
        discovery.clone(),
        connect.clone(),
        metrics.clone(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serving = outbound.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let outbound = serving.clone();
            let serve = serve.clone();
            tokio::spawn(async move {
                match serve {
                    Serve::Sidecar(orig_dst) => outbound.serve_connection(stream, orig_dst).await,
                    Serve::Gateway(scope) => outbound.serve_gateway_connection(stream, scope).await,
                }
            });
        }
    });
    Proxy {
        addr,
        outbound,
        discovery,
        connect,
        metrics,
    }
}

/// One HTTP/1.1 connection to the proxy.
pub async fn http1(proxy: SocketAddr) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(proxy)
        .await
        .expect("connect to the proxy");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

/// One HTTP/2 connection to the proxy.
pub async fn http2(proxy: SocketAddr) -> hyper::client::conn::http2::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(proxy)
        .await
        .expect("connect to the proxy");
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    sender
}

/// A GET of `/` with `Host: authority`.
pub fn get(authority: &str) -> Request<Empty<Bytes>> {
    Request::builder()
        .uri("/")
        .header(http::header::HOST, authority)
        .body(Empty::new())
        .expect("request")
}

/// The status, the answering backend (`x-backend`) and the body.
pub async fn read(response: Response<Incoming>) -> (u16, String, String) {
    let status = response.status().as_u16();
    let backend = response
        .headers()
        .get("x-backend")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, backend, String::from_utf8_lossy(&body).into_owned())
}

/// One GET over a fresh HTTP/1.1 connection.
pub async fn get_once(proxy: SocketAddr, authority: &str) -> (u16, String, String) {
    let mut sender = http1(proxy).await;
    let response = send1(&mut sender, get(authority)).await.expect("response");
    read(response).await
}

/// `bb` in `mc-demo` (ClusterIP 10.96.0.10, port 8080 → named port
/// `http`) with one meshed pod per backend, listed by `bb-slice`.
pub async fn bb(control_plane: &ControlPlane, backends: &[&Backend]) {
    apply(
        &control_plane.store,
        service("bb", BB_CLUSTER_IP, 8080, "http"),
    );
    for backend in backends {
        apply(
            &control_plane.store,
            pod(&backend.name, "bb", "http", backend.addr.port(), true),
        );
    }
    list(control_plane, backends).await;
}

/// `empty` in `mc-demo` (ClusterIP `cluster_ip`, port 8080) with one
/// meshed pod, `empty-1`, whose backend is returned, listed by
/// `empty-slice` as not ready: the Service has no ready endpoint.
pub async fn without_ready_endpoints(control_plane: &ControlPlane, cluster_ip: &str) -> Backend {
    let backend = Backend::start("empty-1").await;
    let store = &control_plane.store;
    apply(store, service("empty", cluster_ip, 8080, "http"));
    apply(
        store,
        pod("empty-1", "empty", "http", backend.addr.port(), true),
    );
    apply(
        store,
        slice("empty-slice", "empty", 8080, &["empty-1"], false),
    );
    settle(&control_plane.index, "empty", 8080, 0).await;
    backend
}

/// Makes `bb-slice` list exactly `backends`, and waits for the index.
pub async fn list(control_plane: &ControlPlane, backends: &[&Backend]) {
    let names: Vec<&str> = backends.iter().map(|b| b.name.as_str()).collect();
    apply(
        &control_plane.store,
        slice("bb-slice", "bb", 8080, &names, true),
    );
    settle(&control_plane.index, "bb", 8080, backends.len()).await;
}

pub async fn delete_slice(store: &MemoryStore, name: &str) {
    ClusterStore::delete::<k8s_openapi::api::discovery::v1::EndpointSlice>(store, NS, name)
        .await
        .expect("delete");
}

/// Sends `request` on an HTTP/1.1 connection once it is ready for another.
pub async fn send1(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    request: Request<Empty<Bytes>>,
) -> hyper::Result<Response<Incoming>> {
    sender.ready().await?;
    sender.send_request(request).await
}
