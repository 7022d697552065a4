use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::http1::origin_form;
use super::*;

/// Connects to one address, as the proxy's connectors do.
struct Tcp(SocketAddr);

impl Connect for Tcp {
    type Io = TcpStream;

    fn connect(&self) -> Connecting<TcpStream> {
        let addr = self.0;
        Box::pin(async move {
            TcpStream::connect(addr)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("connecting to {addr}: {e}")))
        })
    }
}

/// An application speaking HTTP/1 and HTTP/2, counting its connections,
/// answering with the target and version it received. A request to
/// `/close` is answered with `connection: close`; one to `/hold` once
/// `release` is notified.
struct App {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    release: Arc<Notify>,
    served: Arc<parking_lot::Mutex<Vec<JoinHandle<()>>>>,
}

impl App {
    /// Closes every connection the app has.
    fn drop_connections(&self) {
        for connection in self.served.lock().drain(..) {
            connection.abort();
        }
    }
}

async fn app() -> App {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let served = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let (count, held, tasks) = (connections.clone(), release.clone(), served.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let held = held.clone();
            let task = tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let held = held.clone();
                    async move {
                        if request.uri().path() == "/hold" {
                            held.notified().await;
                        }
                        let mut response = http::Response::builder()
                            .header("x-target", request.uri().to_string())
                            .header("x-version", format!("{:?}", request.version()));
                        if request.uri().path() == "/close" {
                            response = response.header("connection", "close");
                        }
                        Ok::<_, Infallible>(
                            response
                                .body(Full::new(Bytes::from_static(b"ok")))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            tasks.lock().push(task);
        }
    });
    App {
        addr,
        connections,
        release,
        served,
    }
}

fn get(target: &str, version: Version) -> Request<Full<Bytes>> {
    let mut request = Request::builder()
        .uri(target)
        .version(version)
        .body(Full::new(Bytes::new()))
        .expect("request");
    if version != Version::HTTP_2 {
        request
            .headers_mut()
            .insert("host", http::HeaderValue::from_static("bb"));
    }
    request
}

/// The target the app saw, and the body, of a whole exchange; the
/// response says when its connection was made.
async fn answered(
    response: Result<(http::Response<Incoming>, ConnectedAt), PoolError>,
) -> (String, Bytes) {
    let before = std::time::Instant::now();
    let (response, ConnectedAt(connected_at)) = response.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(connected_at <= before);
    let seen = response.headers()["x-target"]
        .to_str()
        .expect("x-target")
        .to_owned();
    let body = response.into_body().collect().await.expect("body");
    (seen, body.to_bytes())
}

async fn http1(pool: &Http1Pool<Tcp, Full<Bytes>>, target: &str) -> (String, Bytes) {
    answered(pool.send(get(target, Version::HTTP_11)).await).await
}

async fn http2(pool: &Http2Pool<Tcp, Full<Bytes>>, target: &str) -> (String, Bytes) {
    answered(pool.send(get(target, Version::HTTP_2)).await).await
}

/// Waits (with a deadline) until `done`.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn http1_requests_one_after_another_share_one_connection() {
    let app = app().await;
    let pool = Http1Pool::new(Tcp(app.addr), false);
    for i in 0..20 {
        let (target, body) = http1(&pool, &format!("http://bb:8080/n/{i}?q=1")).await;
        assert_eq!(target, format!("/n/{i}?q=1"), "sent in origin form");
        assert_eq!(body, "ok");
    }
    assert_eq!(app.connections.load(Ordering::SeqCst), 1);
    assert_eq!(pool.len(), 1);
}

#[tokio::test]
async fn http1_keeps_the_absolute_form_where_asked() {
    let app = app().await;
    let pool = Http1Pool::new(Tcp(app.addr), true);
    let (target, _) = http1(&pool, "http://bb:8080/abs").await;
    assert_eq!(target, "http://bb:8080/abs");
}

#[tokio::test]
async fn http1_requests_in_flight_together_get_a_connection_each_then_reuse_them() {
    let app = app().await;
    let pool = Arc::new(Http1Pool::new(Tcp(app.addr), false));
    // Three requests held by the app at once need three connections.
    let held: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { http1(&pool, "http://bb/hold").await })
        })
        .collect();
    until("three connections", || {
        app.connections.load(Ordering::SeqCst) == 3
    })
    .await;
    for call in held {
        while !call.is_finished() {
            app.release.notify_one();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (target, _) = call.await.expect("call");
        assert_eq!(target, "/hold");
    }
    // Then one at a time, they go over the connections already open.
    for _ in 0..10 {
        http1(&pool, "http://bb/again").await;
    }
    assert_eq!(app.connections.load(Ordering::SeqCst), 3);
    assert_eq!(pool.len(), 3);
}

#[tokio::test]
async fn http1_replaces_a_connection_the_peer_closed_without_an_error() {
    let app = app().await;
    let pool = Http1Pool::new(Tcp(app.addr), false);
    http1(&pool, "http://bb/close").await;
    let (target, _) = http1(&pool, "http://bb/after").await;
    assert_eq!(target, "/after");
    assert_eq!(app.connections.load(Ordering::SeqCst), 2);
    // The new connection is kept and the closed one not used again.
    http1(&pool, "http://bb/again").await;
    assert_eq!(app.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn http2_requests_share_one_connection_even_in_flight_together() {
    let app = app().await;
    let pool = Arc::new(Http2Pool::new(Tcp(app.addr)));
    let held: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { http2(&pool, "http://bb/hold").await })
        })
        .collect();
    for call in held {
        while !call.is_finished() {
            app.release.notify_one();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (target, _) = call.await.expect("call");
        assert_eq!(target, "http://bb/hold");
    }
    assert_eq!(app.connections.load(Ordering::SeqCst), 1);
    assert!(pool.is_connected());
}

#[tokio::test]
async fn http2_opens_the_connection_again_once_the_peer_closed_it() {
    let app = app().await;
    let pool = Http2Pool::new(Tcp(app.addr));
    http2(&pool, "http://bb/first").await;
    app.drop_connections();
    until("the pool sees the connection closed", || {
        !pool.is_connected()
    })
    .await;
    let (target, _) = http2(&pool, "http://bb/second").await;
    assert_eq!(target, "http://bb/second");
    assert_eq!(app.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unreachable_peer_is_a_connect_error_naming_it() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let pool: Http1Pool<_, Full<Bytes>> = Http1Pool::new(Tcp(addr), false);
    let error = pool
        .send(get("/", Version::HTTP_11))
        .await
        .expect_err("nothing listens");
    assert!(error.is_connect(), "{error:?}");
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
    assert!(pool.is_empty());

    let pool: Http2Pool<_, Full<Bytes>> = Http2Pool::new(Tcp(addr));
    let error = pool
        .send(get("http://bb/", Version::HTTP_2))
        .await
        .expect_err("nothing listens");
    assert!(error.is_connect(), "{error:?}");
    assert!(!pool.is_connected());
}

#[test]
fn http1_targets_go_in_origin_form() {
    for (given, sent) in [
        ("http://bb:8080/a/b?c=d", "/a/b?c=d"),
        ("http://bb", "/"),
        ("https://bb/", "/"),
        ("/already", "/already"),
        ("*", "*"),
    ] {
        let mut uri: Uri = given.parse().expect("uri");
        origin_form(&mut uri);
        assert_eq!(uri.to_string(), sent, "{given}");
    }
}
