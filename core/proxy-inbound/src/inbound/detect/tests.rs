use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::{Detected, classify, detect};

#[test]
fn request_lines_are_http1() {
    assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Some(Detected::Http1));
    assert_eq!(classify(b"POST /x?y=1 HTTP/1.0\n"), Some(Detected::Http1));
    assert_eq!(
        classify(b"GET / HTTP/1.1"),
        None,
        "the line is not complete"
    );
    assert_eq!(classify(b"GET / SPDY/3\r\n"), Some(Detected::Opaque));
}

#[test]
fn the_preface_is_http2_and_its_prefix_waits() {
    assert_eq!(
        classify(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0"),
        Some(Detected::Http2)
    );
    assert_eq!(classify(b"PRI * HTTP/2"), None);
    assert_eq!(classify(b""), None);
}

#[test]
fn other_bytes_are_opaque_at_once() {
    assert_eq!(classify(b"\x16\x03\x01\x02\x00"), Some(Detected::Opaque));
    assert_eq!(classify(b"ping"), None, "could still be a method");
    assert_eq!(classify(b"ping\r\n"), Some(Detected::Opaque));
    assert_eq!(classify(b"{\"json\":1}"), Some(Detected::Opaque));
}

#[tokio::test]
async fn a_silent_client_is_opaque_after_the_timeout() {
    let (mut client, mut server) = tokio::io::duplex(64);
    client.write_all(b"GET").await.expect("write");
    let (detected, read) = detect(&mut server, Duration::from_millis(50))
        .await
        .expect("detect");
    assert_eq!(detected, Detected::Opaque);
    assert_eq!(&read[..], b"GET", "the bytes read are kept for replay");
}

#[tokio::test]
async fn a_request_split_across_writes_is_http1() {
    let (mut client, mut server) = tokio::io::duplex(64);
    let detecting = tokio::spawn(async move {
        detect(&mut server, Duration::from_secs(5))
            .await
            .map(|(d, read)| (d, read.len()))
    });
    client.write_all(b"GET /a ").await.expect("write");
    tokio::task::yield_now().await;
    client
        .write_all(b"HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let (detected, _) = detecting.await.expect("task").expect("detect");
    assert_eq!(detected, Detected::Http1);
}
