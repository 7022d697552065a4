use std::time::Duration;

use bytes::Bytes;
use strait_io::PrefixedIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Detection, MAX_REQUEST_LINE, Protocol, classify, detect};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// `bytes` are `expected`, and no shorter beginning of them says anything
/// else: the verdict does not depend on how the bytes are split into reads.
#[track_caller]
fn assert_rule(bytes: &[u8], expected: Option<Protocol>) {
    let shown = String::from_utf8_lossy(bytes);
    assert_eq!(classify(bytes), expected, "{shown:?}");
    let mut settled = None;
    for end in 0..bytes.len() {
        let verdict = classify(&bytes[..end]);
        if let Some(protocol) = verdict {
            assert_eq!(
                Some(protocol),
                expected,
                "the first {end} bytes of {shown:?} already say otherwise"
            );
        }
        assert!(
            settled.is_none() || verdict == settled,
            "the verdict on {shown:?} changes at byte {end}"
        );
        settled = settled.or(verdict);
    }
}

fn protocol(protocol: Protocol, prefix: &'static [u8]) -> Detection {
    Detection::Protocol {
        protocol,
        prefix: Bytes::from_static(prefix),
    }
}

#[test]
fn request_lines_are_http1() {
    assert_rule(b"GET / HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"GET / HTTP/1.1\r\nHost: a\r\n", Some(Protocol::Http1));
    assert_rule(b"POST /x?y=1 HTTP/1.0\r\n", Some(Protocol::Http1));
    assert_rule(
        b"CONNECT example.com:443 HTTP/1.1\r\n",
        Some(Protocol::Http1),
    );
    assert_rule(b"OPTIONS * HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"GET http://a/b HTTP/1.1\r\n", Some(Protocol::Http1));
}

#[test]
fn a_bare_line_feed_ends_the_request_line() {
    assert_rule(b"POST /x?y=1 HTTP/1.0\n", Some(Protocol::Http1));
    assert_rule(b"GET / HTTP/1.1\nhost: a\n", Some(Protocol::Http1));
}

#[test]
fn an_unfinished_request_line_waits() {
    assert_eq!(classify(b"GET / HT"), None);
    assert_eq!(
        classify(b"GET / HTTP/1.1"),
        None,
        "the line is not complete"
    );
    assert_eq!(
        classify(b"GET / HTTP/1.1\r"),
        None,
        "a line feed may follow"
    );
    assert_eq!(classify(b"ping"), None, "could still be a method");
    assert_eq!(classify(b"GET /a"), None);
}

#[test]
fn the_preface_is_http2_and_its_beginning_waits() {
    assert_rule(
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0",
        Some(Protocol::Http2),
    );
    assert_rule(PREFACE, Some(Protocol::Http2));
    assert_eq!(classify(b""), None);
    assert_eq!(classify(b"PRI * HTTP/2"), None);
    assert_eq!(classify(b"PRI * HTTP/2.0\r\n"), None);
    assert_eq!(
        classify(b"PRI * HTTP/1.1\r\n"),
        Some(Protocol::Http1),
        "PRI is a method like any other outside the preface"
    );
    assert_rule(b"PRI * HTTP/2.0\r\n\r\nXX", Some(Protocol::Opaque));
}

#[test]
fn other_bytes_are_opaque_at_once() {
    assert_rule(b"\x16\x03\x01\x02\x00", Some(Protocol::Opaque));
    assert_rule(b"hello\r\n", Some(Protocol::Opaque));
    assert_rule(b"ping\r\n", Some(Protocol::Opaque));
    assert_rule(b"{\"json\":1}", Some(Protocol::Opaque));
    assert_rule(b"GET / SSH-2.0\r\n", Some(Protocol::Opaque));
    assert_rule(b"GET / SPDY/3\r\n", Some(Protocol::Opaque));
    assert_rule(b"GET / HTTP/1.2\r\n", Some(Protocol::Opaque));
    assert_rule(b"GET / HTTP/2.0\r\n", Some(Protocol::Opaque));
    assert_rule(b"SSH-2.0-OpenSSH_9.6\r\n", Some(Protocol::Opaque));
    assert_eq!(classify(b" GET"), Some(Protocol::Opaque), "no method");
    assert_eq!(classify(b"GET\t/"), Some(Protocol::Opaque));
    assert_eq!(
        classify(b"FOO \x00\x01"),
        Some(Protocol::Opaque),
        "binary after a word"
    );
}

#[test]
fn methods_are_any_token() {
    // The inbound rule took any RFC 9110 token, the outbound one only
    // upper-case letters, `-` and `_`: these were HTTP one way and opaque
    // the other.
    assert_rule(b"get / HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"Patch /a HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"M-SEARCH * HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"PROPFIND2 /dav HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"X.Y!#$%&'*+^_`|~ / HTTP/1.0\r\n", Some(Protocol::Http1));
    // The outbound rule gave up on a method longer than 32 bytes while
    // the line was incomplete, and took it once the line was whole.
    let mut long = vec![b'A'; 40];
    long.extend_from_slice(b" / HTTP/1.1\r\n");
    assert_rule(&long, Some(Protocol::Http1));
}

#[test]
fn the_line_is_method_target_version_with_single_spaces() {
    // The inbound rule only looked at the method and the line's end, so
    // these were HTTP inbound and opaque outbound.
    assert_rule(b"GET a b HTTP/1.1\r\n", Some(Protocol::Opaque));
    assert_rule(b"GET  HTTP/1.1\r\n", Some(Protocol::Opaque));
    assert_rule(b"GET  / HTTP/1.1\r\n", Some(Protocol::Opaque));
    assert_rule(b"GET / HTTP/1.1 \r\n", Some(Protocol::Opaque));
    assert_rule(b"GET / HTTP/1.1\r\r\n", Some(Protocol::Opaque));
}

#[test]
fn targets_are_visible_bytes() {
    assert_rule(b"GET /caf\xc3\xa9 HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"GET /%7e?a=b&c=d#e HTTP/1.1\r\n", Some(Protocol::Http1));
    assert_rule(b"GET /\x01 HTTP/1.1\r\n", Some(Protocol::Opaque));
    assert_rule(b"GET /\x7f HTTP/1.1\r\n", Some(Protocol::Opaque));
}

#[test]
fn no_request_line_within_the_cap_is_opaque() {
    let mut long_method = vec![b'A'; MAX_REQUEST_LINE];
    assert_eq!(classify(&long_method[..MAX_REQUEST_LINE - 1]), None);
    assert_eq!(classify(&long_method), Some(Protocol::Opaque));
    long_method.extend_from_slice(b" / HTTP/1.1\r\n");
    assert_eq!(
        classify(&long_method),
        Some(Protocol::Opaque),
        "a line that ends past the cap does not count"
    );

    let mut long_target = b"GET /".to_vec();
    long_target.resize(MAX_REQUEST_LINE - b" HTTP/1.1\r\n".len(), b'a');
    long_target.extend_from_slice(b" HTTP/1.1\r\n");
    assert_eq!(long_target.len(), MAX_REQUEST_LINE);
    assert_eq!(classify(&long_target[..MAX_REQUEST_LINE - 1]), None);
    assert_eq!(classify(&long_target), Some(Protocol::Http1));
    long_target.insert(5, b'a');
    assert_eq!(
        classify(&long_target[..MAX_REQUEST_LINE]),
        Some(Protocol::Opaque),
        "one byte longer, and the line does not end within the cap"
    );
}

#[tokio::test]
async fn a_request_split_across_writes_is_http1_and_replays_whole() {
    let (mut client, mut server) = tokio::io::duplex(1024);
    client.write_all(b"GET / HT").await.unwrap();
    let detecting = tokio::spawn(async move {
        detect(&mut server, Duration::from_secs(5))
            .await
            .map(|d| (d, server))
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    client.write_all(b"TP/1.1\r\n").await.unwrap();
    let (detected, server) = detecting.await.unwrap().unwrap();
    let Detection::Protocol {
        protocol: Protocol::Http1,
        prefix,
    } = detected
    else {
        panic!("not HTTP/1: {detected:?}");
    };
    assert_eq!(prefix, "GET / HTTP/1.1\r\n");
    let mut replay = PrefixedIo::new(prefix, server);
    client.write_all(b"rest").await.unwrap();
    let mut read = [0u8; 20];
    replay.read_exact(&mut read).await.unwrap();
    assert_eq!(&read, b"GET / HTTP/1.1\r\nrest");
}

#[tokio::test]
async fn the_preface_is_detected_from_a_connection() {
    let (mut client, mut server) = tokio::io::duplex(1024);
    client.write_all(PREFACE).await.unwrap();
    let detected = detect(&mut server, Duration::from_secs(5)).await.unwrap();
    assert_eq!(detected, protocol(Protocol::Http2, PREFACE));
}

#[tokio::test]
async fn opaque_bytes_are_detected_without_waiting() {
    let (mut client, mut server) = tokio::io::duplex(1024);
    client.write_all(b"\x16\x03\x01").await.unwrap();
    let detected = tokio::time::timeout(
        Duration::from_secs(5),
        detect(&mut server, Duration::from_secs(60)),
    )
    .await
    .expect("decided on the bytes, not the timeout")
    .unwrap();
    assert_eq!(detected, protocol(Protocol::Opaque, b"\x16\x03\x01"));
}

#[tokio::test]
async fn a_silent_client_is_opaque_after_the_timeout() {
    let (_quiet, mut server) = tokio::io::duplex(1024);
    let detected = detect(&mut server, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(detected, protocol(Protocol::Opaque, b""));

    let (mut client, mut server) = tokio::io::duplex(64);
    client.write_all(b"GET").await.unwrap();
    let detected = detect(&mut server, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(
        detected,
        protocol(Protocol::Opaque, b"GET"),
        "the bytes read are kept for replay"
    );
}

#[tokio::test]
async fn a_client_that_stops_sending_mid_line_is_opaque() {
    let (mut client, mut server) = tokio::io::duplex(64);
    client.write_all(b"GET / HTTP/1.1").await.unwrap();
    client.shutdown().await.unwrap();
    let detected = detect(&mut server, Duration::from_secs(5)).await.unwrap();
    assert_eq!(detected, protocol(Protocol::Opaque, b"GET / HTTP/1.1"));
}

#[tokio::test]
async fn a_client_that_closes_before_sending_is_closed() {
    let (closed, mut server) = tokio::io::duplex(1024);
    drop(closed);
    let detected = detect(&mut server, Duration::from_secs(1)).await.unwrap();
    assert_eq!(detected, Detection::Closed);
}
