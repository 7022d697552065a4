use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};

use super::*;

#[test]
fn timeouts_parse_with_their_units_and_bad_ones_are_named() {
    assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_timeout("30s"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_timeout("1500ms"), Ok(Duration::from_millis(1500)));
    assert!(parse_timeout("2").unwrap_err().contains("no unit"));
    assert!(parse_timeout("2d").unwrap_err().contains("\"d\""));
    assert!(parse_timeout("m").unwrap_err().contains("number"));
}

/// An admin endpoint whose `/ready` answers 503 until `ready` is set.
async fn admin(ready: Arc<AtomicBool>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let ready = ready.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let status = if request.uri().path() == "/ready" && ready.load(Ordering::SeqCst)
                    {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    let mut response = Response::new(Full::new(Bytes::from_static(b"")));
                    *response.status_mut() = status;
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn it_returns_once_the_proxy_becomes_ready() {
    let ready = Arc::new(AtomicBool::new(false));
    let addr = admin(ready.clone()).await;
    let waiting = tokio::spawn(await_ready(addr, Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "returned while /ready said 503");
    ready.store(true, Ordering::SeqCst);
    let result = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("returns soon after /ready turns 200")
        .expect("task");
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn it_gives_up_at_the_timeout_saying_what_it_saw() {
    let addr = admin(Arc::new(AtomicBool::new(false))).await;
    let err = await_ready(addr, Duration::from_millis(400))
        .await
        .unwrap_err();
    assert!(err.contains("/ready answered 503"), "{err}");
    // Nothing listening at all.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = await_ready(closed, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(err.contains("connecting to"), "{err}");
}
