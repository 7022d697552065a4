use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use super::*;

/// An HTTP/1 application counting its connections, answering with the
/// target and version it received. A request to `/close` is answered with
/// `connection: close`; one to `/hold` is answered once `release` is
/// notified.
struct App {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    release: Arc<Notify>,
}

async fn app() -> App {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let (count, held) = (connections.clone(), release.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let held = held.clone();
            tokio::spawn(async move {
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
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    App {
        addr,
        connections,
        release,
    }
}

fn get(target: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .uri(target)
        .header("host", "bb")
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// Sends `target` and reads the whole answer: its target header and body.
async fn exchange(pool: &Http1Pool<Full<Bytes>>, target: &str) -> (String, Bytes) {
    let response = pool.send(get(target)).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let seen = response.headers()["x-target"]
        .to_str()
        .expect("x-target")
        .to_owned();
    let body = response.into_body().collect().await.expect("body");
    (seen, body.to_bytes())
}

fn pool(app: &App, absolute_form: bool) -> Http1Pool<Full<Bytes>> {
    Http1Pool::new(app.addr, Duration::from_secs(5), absolute_form)
}

#[tokio::test]
async fn requests_one_after_another_share_one_connection() {
    let app = app().await;
    let pool = pool(&app, false);
    for i in 0..20 {
        let (target, body) = exchange(&pool, &format!("http://bb:8080/n/{i}?q=1")).await;
        assert_eq!(target, format!("/n/{i}?q=1"), "sent in origin form");
        assert_eq!(body, "ok");
    }
    assert_eq!(app.connections.load(Ordering::SeqCst), 1);
    assert_eq!(pool.len(), 1);
}

#[tokio::test]
async fn the_absolute_form_is_kept_where_the_client_used_it() {
    let app = app().await;
    let pool = pool(&app, true);
    let (target, _) = exchange(&pool, "http://bb:8080/abs").await;
    assert_eq!(target, "http://bb:8080/abs");
}

#[tokio::test]
async fn requests_in_flight_together_get_a_connection_each_then_reuse_them() {
    let app = app().await;
    let pool = Arc::new(pool(&app, false));
    // Three requests held by the app at once need three connections.
    let held: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { exchange(&pool, "http://bb/hold").await })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.connections.load(Ordering::SeqCst) < 3 {
        assert!(
            Instant::now() < deadline,
            "the held requests never connected"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Answer them one at a time until all three are answered.
    let mut answered = 0;
    for call in held {
        while !call.is_finished() {
            app.release.notify_one();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (target, _) = call.await.expect("call");
        assert_eq!(target, "/hold");
        answered += 1;
    }
    assert_eq!(answered, 3);
    // Then one at a time, they go over the connections already open.
    for _ in 0..10 {
        exchange(&pool, "http://bb/again").await;
    }
    assert_eq!(app.connections.load(Ordering::SeqCst), 3);
    assert_eq!(pool.len(), 3);
}

#[tokio::test]
async fn a_connection_the_app_closed_is_replaced_without_an_error() {
    let app = app().await;
    let pool = pool(&app, false);
    exchange(&pool, "http://bb/close").await;
    // The app closed its side: the next request connects again.
    let (target, _) = exchange(&pool, "http://bb/after").await;
    assert_eq!(target, "/after");
    assert_eq!(app.connections.load(Ordering::SeqCst), 2);
    // The new connection is kept and the closed one not used again.
    exchange(&pool, "http://bb/again").await;
    assert_eq!(app.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unreachable_app_is_an_error_naming_its_address() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let pool: Http1Pool<Full<Bytes>> = Http1Pool::new(addr, Duration::from_secs(5), false);
    let error = pool.send(get("/")).await.expect_err("nothing listens");
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
    assert_eq!(pool.len(), 0);
}

#[test]
fn targets_go_in_origin_form() {
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
