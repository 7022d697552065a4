use std::time::Duration;

use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};

use strait_test_support::websocket;

use super::*;

/// A client frame, masked as RFC 6455 requires of clients.
fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    websocket::fragment(fin, opcode, payload, Some(websocket::MASK))
}

/// Reads one server frame: its opcode and payload.
async fn server_frame<S: AsyncRead + Unpin>(io: &mut S) -> (u8, Vec<u8>) {
    websocket::read_frame(io)
        .await
        .expect("a frame")
        .expect("a frame before the end")
}

/// The server side of a WebSocket on one end of a pipe; the other end,
/// and the task that yields how it ended and what it logged.
fn pipe() -> (DuplexStream, tokio::task::JoinHandle<(String, Vec<String>)>) {
    let (client, server) = tokio::io::duplex(4 << 20);
    let task = tokio::spawn(async move {
        let lines = parking_lot::Mutex::new(Vec::new());
        let ended = websocket(server, b"Request served by echo-1", &|line| {
            lines.lock().push(line);
        })
        .await;
        (ended.to_string(), lines.into_inner())
    });
    (client, task)
}

#[test]
fn the_accept_key_is_rfc_6455s() {
    // RFC 6455 section 1.3's example.
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn a_handshake_is_answered_or_refused_as_gorilla_refuses_it() {
    let good = headers(&[
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]);
    assert!(is_websocket_upgrade(&good));
    assert_eq!(
        handshake(&Method::GET, &good).as_deref(),
        Ok("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert!(!is_websocket_upgrade(&headers(&[("upgrade", "websocket")])));
    assert!(!is_websocket_upgrade(&headers(&[
        ("connection", "upgrade"),
        ("upgrade", "h2c")
    ])));
    let refused = |method: Method, drop: &str, replace: Option<(&'static str, &'static str)>| {
        let mut asked = good.clone();
        asked.remove(drop);
        if let Some((name, value)) = replace {
            asked.insert(name, HeaderValue::from_static(value));
        }
        handshake(&method, &asked).expect_err("refused")
    };
    let (status, why) = refused(Method::POST, "x", None);
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{why}");
    let (status, why) = refused(Method::GET, "sec-websocket-version", None);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(why.contains("unsupported version"), "{why}");
    for key in ["not base64!", "c2hvcnQ="] {
        let mut asked = good.clone();
        asked.insert("sec-websocket-key", HeaderValue::from_static(key));
        let (status, why) = handshake(&Method::GET, &asked).expect_err("refused");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}");
        assert!(why.contains("16-byte"), "{why}");
    }
}

#[test]
fn headers_are_echoed_by_canonical_name_in_order() {
    let echoed = sorted_headers(&headers(&[
        ("x-b", "2"),
        ("user-agent", "curl"),
        ("host", "echo"),
        ("x-b", "1"),
        ("accept", "*/*"),
    ]));
    assert_eq!(
        echoed,
        ["Accept: */*", "User-Agent: curl", "X-B: 2", "X-B: 1"]
    );
}

#[tokio::test]
async fn messages_are_echoed_after_the_greeting_and_a_close_is_answered() {
    let (mut client, server) = pipe();
    assert_eq!(
        server_frame(&mut client).await,
        (OP_TEXT, b"Request served by echo-1".to_vec())
    );
    client
        .write_all(&masked(true, OP_TEXT, b"hello"))
        .await
        .unwrap();
    assert_eq!(
        server_frame(&mut client).await,
        (OP_TEXT, b"hello".to_vec())
    );
    // A binary message in three fragments, a ping between them.
    let big = vec![0xa5u8; 70_000];
    client
        .write_all(&masked(false, OP_BINARY, &big[..10]))
        .await
        .unwrap();
    client
        .write_all(&masked(true, OP_PING, b"are you there"))
        .await
        .unwrap();
    client
        .write_all(&masked(false, OP_CONTINUATION, &big[10..500]))
        .await
        .unwrap();
    client
        .write_all(&masked(true, OP_CONTINUATION, &big[500..]))
        .await
        .unwrap();
    assert_eq!(
        server_frame(&mut client).await,
        (OP_PONG, b"are you there".to_vec())
    );
    assert_eq!(server_frame(&mut client).await, (OP_BINARY, big));
    client
        .write_all(&masked(true, OP_CLOSE, &1000u16.to_be_bytes()))
        .await
        .unwrap();
    assert_eq!(
        server_frame(&mut client).await,
        (OP_CLOSE, 1000u16.to_be_bytes().to_vec())
    );
    let (ended, lines) = server.await.unwrap();
    assert_eq!(ended, "websocket: close 1000");
    assert_eq!(lines, ["txt | hello", "bin | 70000 byte(s)"]);
}

#[tokio::test]
async fn a_broken_client_is_closed_with_the_code_that_says_why() {
    // An unmasked frame: a protocol error, close 1002.
    let (mut client, server) = pipe();
    server_frame(&mut client).await;
    client.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    assert_eq!(
        server_frame(&mut client).await,
        (OP_CLOSE, 1002u16.to_be_bytes().to_vec())
    );
    let (ended, _) = server.await.unwrap();
    assert!(ended.contains("not masked"), "{ended}");

    // A frame announcing a terabyte: refused before anything is read,
    // close 1009, nothing allocated for it.
    let (mut client, server) = pipe();
    server_frame(&mut client).await;
    let mut head = vec![0x82, 0x80 | 127];
    head.extend_from_slice(&(1u64 << 40).to_be_bytes());
    head.extend_from_slice(&[0, 0, 0, 0]);
    client.write_all(&head).await.unwrap();
    assert_eq!(
        server_frame(&mut client).await,
        (OP_CLOSE, 1009u16.to_be_bytes().to_vec())
    );
    let (ended, _) = server.await.unwrap();
    assert!(ended.contains("exceeds"), "{ended}");

    // Fragments that add up past the limit: refused the same way.
    let (mut client, server) = pipe();
    server_frame(&mut client).await;
    let half = vec![0u8; MAX_MESSAGE / 2 + 1];
    client
        .write_all(&masked(false, OP_BINARY, &half))
        .await
        .unwrap();
    client
        .write_all(&masked(true, OP_CONTINUATION, &half))
        .await
        .unwrap();
    assert_eq!(server_frame(&mut client).await.0, OP_CLOSE);
    let (ended, _) = server.await.unwrap();
    assert!(ended.contains("exceeds"), "{ended}");

    // A continuation with no message to continue.
    let (mut client, server) = pipe();
    server_frame(&mut client).await;
    client
        .write_all(&masked(true, OP_CONTINUATION, b"x"))
        .await
        .unwrap();
    assert_eq!(
        server_frame(&mut client).await,
        (OP_CLOSE, 1002u16.to_be_bytes().to_vec())
    );
    server.await.unwrap();
}

/// Sends `request` to `addr` and reads until the server closes or
/// `until` shows up in what was read.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    until: &str,
) -> String {
    stream.write_all(request).await.unwrap();
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            read.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&read).contains(until) {
                break;
            }
        }
    })
    .await
    .expect("an answer in time");
    String::from_utf8_lossy(&read).into_owned()
}

#[tokio::test]
async fn the_server_echoes_requests_and_upgrades_to_a_websocket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = ContainerLog::default();
    let _server = serve_echo(
        listener,
        EchoServer { port: addr.port() },
        "echo-7d9f-x2".into(),
        log.clone(),
    );

    let mut stream = TcpStream::connect(addr).await.unwrap();
    let answer = exchange(
        &mut stream,
        b"POST /a?b=c HTTP/1.1\r\nhost: echo:8080\r\nx-z: 1\r\naccept: */*\r\ncontent-length: 5\r\n\r\nhello",
        "\nhello",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(
        body,
        "Request served by echo-7d9f-x2\n\nPOST /a?b=c HTTP/1.1\n\nHost: echo:8080\n\
         Accept: */*\nContent-Length: 5\nX-Z: 1\n\nhello"
    );

    let answer = exchange(
        &mut stream,
        b"GET /.sse HTTP/1.1\r\nhost: echo\r\n\r\n",
        "WebSocket messages\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 501 "), "{answer}");

    // The same connection becomes a WebSocket. The answer's head is read
    // a byte at a time: the greeting frame follows it at once.
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nhost: echo\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\
              sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("the answer's head"));
    }
    let answer = String::from_utf8_lossy(&head);
    assert!(answer.starts_with("HTTP/1.1 101 "), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{answer}"
    );
    assert_eq!(
        server_frame(&mut stream).await,
        (OP_TEXT, b"Request served by echo-7d9f-x2".to_vec())
    );
    stream
        .write_all(&masked(true, OP_TEXT, b"ping me"))
        .await
        .unwrap();
    assert_eq!(
        server_frame(&mut stream).await,
        (OP_TEXT, b"ping me".to_vec())
    );
    stream
        .write_all(&masked(true, OP_CLOSE, &1000u16.to_be_bytes()))
        .await
        .unwrap();
    assert_eq!(server_frame(&mut stream).await.0, OP_CLOSE);

    let logged: Vec<String> = log.lines().into_iter().map(|l| l.text).collect();
    let remote = stream.local_addr().unwrap();
    for line in [
        format!("Echo server listening on port {}.", addr.port()),
        format!("{remote} | POST /a?b=c"),
        format!("{remote} | GET /ws"),
        format!("{remote} | upgraded to websocket"),
        format!("{remote} | txt | ping me"),
    ] {
        assert!(logged.contains(&line), "{line:?} not in {logged:?}");
    }
}
