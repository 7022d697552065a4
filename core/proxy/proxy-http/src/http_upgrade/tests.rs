use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONNECTION, CONTENT_LENGTH, TE, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

fn request(method: Method, version: Version, headers: &[(&str, &str)]) -> Request<()> {
    let mut request = Request::builder().method(method).uri("/ws");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(()).unwrap();
    *request.version_mut() = version;
    request
}

#[test]
fn only_http11_upgrades_named_by_connection_and_connect_take_a_connection_over() {
    let websocket = [("connection", "Upgrade"), ("upgrade", "websocket")];
    assert!(wants_upgrade(&request(
        Method::GET,
        Version::HTTP_11,
        &websocket
    )));
    assert!(wants_upgrade(&request(
        Method::GET,
        Version::HTTP_11,
        &[
            ("connection", "keep-alive, upgrade"),
            ("upgrade", "WebSocket/13")
        ]
    )));
    assert!(wants_upgrade(&request(
        Method::CONNECT,
        Version::HTTP_11,
        &[]
    )));

    for (method, version, headers) in [
        // Upgrade not named by Connection, as RFC 9110 requires.
        (
            Method::GET,
            Version::HTTP_11,
            &[("upgrade", "websocket")][..],
        ),
        // Connection naming an Upgrade that is not there.
        (
            Method::GET,
            Version::HTTP_11,
            &[("connection", "upgrade")][..],
        ),
        // h2c would hide an HTTP/2 connection from the proxy.
        (
            Method::GET,
            Version::HTTP_11,
            &[("connection", "upgrade"), ("upgrade", "h2c")][..],
        ),
        (
            Method::GET,
            Version::HTTP_11,
            &[("connection", "upgrade"), ("upgrade", "websocket, H2C")][..],
        ),
        // HTTP/1.0 has no upgrades, HTTP/2 no Connection header.
        (Method::GET, Version::HTTP_10, &websocket[..]),
        (Method::CONNECT, Version::HTTP_10, &[][..]),
        (Method::GET, Version::HTTP_2, &websocket[..]),
        (Method::GET, Version::HTTP_11, &[][..]),
    ] {
        assert!(
            !wants_upgrade(&request(method.clone(), version, headers)),
            "{method} {version:?} {headers:?}"
        );
    }
}

#[test]
fn an_upgrade_keeps_only_its_own_two_hop_by_hop_headers() {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONNECTION,
        HeaderValue::from_static("Upgrade, x-internal, keep-alive"),
    );
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert("x-internal", HeaderValue::from_static("smuggled"));
    headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
    headers.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
    headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    headers.insert(TE, HeaderValue::from_static("gzip"));
    headers.insert("sec-websocket-key", HeaderValue::from_static("k"));
    strip_hop_by_hop_for_upgrade(&mut headers, false);
    let mut left: Vec<_> = headers
        .iter()
        .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap()))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "connection: upgrade",
            "sec-websocket-key: k",
            "upgrade: websocket"
        ]
    );

    // CONNECT has no Upgrade: nothing is put back; its 2xx answer has no length.
    let mut headers = HeaderMap::new();
    headers.insert(CONNECTION, HeaderValue::from_static("keep-alive"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    strip_hop_by_hop_for_upgrade(&mut headers, true);
    assert!(headers.is_empty(), "{headers:?}");
}

#[test]
fn a_tunnel_follows_101_or_a_2xx_to_connect_only() {
    assert!(switches_protocols(false, StatusCode::SWITCHING_PROTOCOLS));
    assert!(switches_protocols(true, StatusCode::SWITCHING_PROTOCOLS));
    assert!(switches_protocols(true, StatusCode::OK));
    assert!(switches_protocols(true, StatusCode::NO_CONTENT));
    assert!(!switches_protocols(false, StatusCode::OK));
    assert!(!switches_protocols(true, StatusCode::FORBIDDEN));
    assert!(!switches_protocols(false, StatusCode::BAD_REQUEST));
}

#[tokio::test]
async fn a_tunnel_that_cannot_start_ends_and_lets_go_of_what_it_held() {
    let held = Arc::new(());
    let mut request = Request::new(());
    let mut response = Response::new(());
    let tunnel = Tunnel::new(
        hyper::upgrade::on(&mut request),
        hyper::upgrade::on(&mut response),
        Some(HeldOpen::new(held.clone())),
    );
    assert_eq!(Arc::strong_count(&held), 2);
    let ended = tunnel.run().await;
    assert!(
        matches!(ended, Err(TunnelError::Downstream(_))),
        "{ended:?}"
    );
    assert_eq!(Arc::strong_count(&held), 1);
}

/// An application on one end of an in-memory pipe: answers a WebSocket
/// handshake on `/ws` with 101 and then echoes bytes until the other end
/// is done, closing after; answers anything else 426 with a body.
async fn app(mut io: DuplexStream) {
    loop {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if io.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_lowercase();
        if head.starts_with("get /ws ") && head.contains("upgrade: websocket") {
            let answer = "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n";
            io.write_all(answer.as_bytes()).await.unwrap();
            let (mut from, mut to) = tokio::io::split(io);
            let _ = tokio::io::copy(&mut from, &mut to).await;
            let _ = to.shutdown().await;
            return;
        }
        let answer = "HTTP/1.1 426 Upgrade Required\r\ncontent-length: 5\r\n\r\nnope\n";
        io.write_all(answer.as_bytes()).await.unwrap();
    }
}

/// A proxy in miniature, as both of strait's sides use the module: an
/// HTTP/1 server with upgrades whose every request goes to the app on a
/// connection of its own, holding `held` with each; an answer that
/// switches protocols becomes a tunnel.
async fn proxy(client: DuplexStream, held: Arc<()>) {
    let service = service_fn(move |mut request: Request<Incoming>| {
        let held = held.clone();
        async move {
            let (upstream, app_end) = tokio::io::duplex(1024);
            tokio::spawn(app(app_end));
            request.extensions_mut().insert(HeldOpen::new(held));
            let pending = PendingUpgrade::take(&mut request);
            let mut response = send(upstream, request).await.unwrap();
            if let Some(pending) = pending {
                pending.answered(&mut response);
            }
            Ok::<_, Infallible>(response)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(client), service)
        .with_upgrades()
        .await;
}

async fn read_until(io: &mut DuplexStream, end: &[u8]) -> String {
    let mut read = Vec::new();
    while !read.ends_with(end) {
        let mut byte = [0u8; 1];
        assert_eq!(io.read(&mut byte).await.unwrap(), 1, "{read:?}");
        read.push(byte[0]);
    }
    String::from_utf8(read).unwrap()
}

#[tokio::test]
async fn an_accepted_upgrade_joins_both_connections_and_a_refused_one_stays_http() {
    let (mut client, proxy_end) = tokio::io::duplex(1024);
    let held = Arc::new(());
    tokio::spawn(proxy(proxy_end, held.clone()));

    // The app declines this one: a plain answer, and the connection stays HTTP.
    client
        .write_all(b"GET /other HTTP/1.1\r\nhost: app\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")
        .await
        .unwrap();
    let head = read_until(&mut client, b"nope\n").await;
    assert!(head.starts_with("HTTP/1.1 426"), "{head}");
    assert!(
        !head.to_lowercase().contains("upgrade: websocket"),
        "{head}"
    );

    client
        .write_all(
            b"GET /ws HTTP/1.1\r\nhost: app\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
        )
        .await
        .unwrap();
    let head = read_until(&mut client, b"\r\n\r\n").await.to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    assert!(head.contains("connection: upgrade"), "{head}");

    for chunk in [&b"not http at all"[..], &[0xffu8; 5000]] {
        client.write_all(chunk).await.unwrap();
        let mut back = vec![0u8; chunk.len()];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(back, chunk);
    }
    // The tunnel holds what its request's server gave it while it runs.
    assert_eq!(Arc::strong_count(&held), 2);
    // The client's close reaches the app, whose close comes back.
    client.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
    drop(client);
    tokio::time::timeout(Duration::from_secs(5), async {
        while Arc::strong_count(&held) > 1 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the tunnel lets go once closed");
}

#[test]
fn a_request_without_a_connection_to_hand_over_is_a_plain_request() {
    let mut websocket = request(
        Method::GET,
        Version::HTTP_11,
        &[("connection", "upgrade"), ("upgrade", "websocket")],
    );
    assert!(PendingUpgrade::take(&mut websocket).is_none());
    // Untouched: the caller strips it as any request.
    assert!(websocket.headers().contains_key(UPGRADE));
}

#[tokio::test]
async fn connect_is_sent_in_authority_form() {
    let (upstream, mut app_end) = tokio::io::duplex(1024);
    let mut request = Request::builder()
        .method(Method::CONNECT)
        .uri("bb.mc-demo.svc.cluster.local:8080")
        .header("host", "bb.mc-demo.svc.cluster.local:8080")
        .body(Empty::<Bytes>::new())
        .unwrap();
    *request.version_mut() = Version::HTTP_11;
    let answer = tokio::spawn(async move {
        let head = read_until(&mut app_end, b"\r\n\r\n").await;
        app_end
            .write_all(b"HTTP/1.1 200 OK\r\n\r\ntunnelled")
            .await
            .unwrap();
        (head, app_end)
    });
    let mut response = send(upstream, request).await.unwrap();
    let (head, _app_end) = answer.await.unwrap();
    assert!(
        head.starts_with("CONNECT bb.mc-demo.svc.cluster.local:8080 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(switches_protocols(true, response.status()));
    let upgraded = hyper::upgrade::on(&mut response).await.unwrap();
    let mut upgraded = TokioIo::new(upgraded);
    let mut first = [0u8; 9];
    upgraded.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"tunnelled");
}
