use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{PrefixedIo, Protocol, classify, detect};

#[test]
fn request_lines_and_the_preface_are_recognised() {
    assert_eq!(
        classify(b"GET / HTTP/1.1\r\nHost: a\r\n"),
        Some(Protocol::Http1)
    );
    assert_eq!(classify(b"POST /x?y=1 HTTP/1.0\r\n"), Some(Protocol::Http1));
    assert_eq!(
        classify(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0"),
        Some(Protocol::Http2)
    );
    assert_eq!(classify(b"GET / HT"), None);
    assert_eq!(classify(b"PRI * HTTP/2.0\r\n"), None);
    assert_eq!(classify(b"\x16\x03\x01\x02\x00"), Some(Protocol::Opaque));
    assert_eq!(classify(b"hello\r\n"), Some(Protocol::Opaque));
    assert_eq!(classify(b"GET / SSH-2.0\r\n"), Some(Protocol::Opaque));
}

#[tokio::test]
async fn detection_keeps_the_bytes_and_times_out_to_opaque() {
    let (mut client, mut server) = tokio::io::duplex(1024);
    client.write_all(b"GET / HT").await.unwrap();
    let task = tokio::spawn(async move {
        detect(&mut server, Duration::from_secs(5))
            .await
            .map(|d| (d, server))
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    client.write_all(b"TP/1.1\r\n").await.unwrap();
    let (detected, server) = task.await.unwrap().unwrap();
    let (protocol, prefix) = detected.unwrap();
    assert_eq!(protocol, Protocol::Http1);
    let mut replay = PrefixedIo::new(prefix, server);
    client.write_all(b"rest").await.unwrap();
    let mut read = [0u8; 20];
    replay.read_exact(&mut read).await.unwrap();
    assert_eq!(&read, b"GET / HTTP/1.1\r\nrest");

    let (_quiet, mut server) = tokio::io::duplex(1024);
    let (protocol, prefix) = detect(&mut server, Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(protocol, Protocol::Opaque);
    assert!(prefix.is_empty());

    let (closed, mut server) = tokio::io::duplex(1024);
    drop(closed);
    assert!(
        detect(&mut server, Duration::from_secs(1))
            .await
            .unwrap()
            .is_none()
    );
}
