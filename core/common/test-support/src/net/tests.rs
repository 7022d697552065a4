use std::net::{IpAddr, Ipv4Addr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[tokio::test]
async fn a_get_reads_the_status_and_body_and_sends_the_host() {
    let listener = TcpListener::bind(any_port()).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.expect("read");
            request.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 418 I'm a teapot\r\ncontent-length: 5\r\n\r\nshort")
            .await
            .expect("write");
        String::from_utf8_lossy(&request).into_owned()
    });
    let (status, body) = http_get(LOCALHOST, addr, "bb.example:8080", "/path").await;
    assert_eq!((status, body.as_str()), (418, "short"));
    let request = server.await.expect("the server ran");
    assert!(request.starts_with("GET /path HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("Host: bb.example:8080\r\n"), "{request}");
}

#[tokio::test]
async fn a_raw_request_is_sent_as_written() {
    let listener = TcpListener::bind(any_port()).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let request: &[u8] =
        b"POST /x HTTP/1.1\r\nHost: evil.example:1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut received = Vec::new();
        let mut buf = [0u8; 1024];
        while !received.ends_with(b"hi") {
            let n = stream.read(&mut buf).await.expect("read");
            received.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 421 Misdirected Request\r\ncontent-length: 3\r\n\r\nno.")
            .await
            .expect("write");
        received
    });
    let (status, body) = http_raw(addr, request).await;
    assert_eq!((status, body.as_str()), (421, "no."));
    assert_eq!(server.await.expect("the server ran"), request);
}

#[tokio::test]
async fn no_listener_is_status_zero() {
    let addr = SocketAddr::new(LOCALHOST, free_port());
    assert_eq!(
        http_get(LOCALHOST, addr, "x", "/").await,
        (0, String::new())
    );
    assert_eq!(
        http_raw(addr, b"GET / HTTP/1.1\r\n\r\n").await,
        (0, String::new())
    );
}

#[test]
fn a_free_port_can_be_bound() {
    let port = free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind(SocketAddr::new(LOCALHOST, port)).expect("the port is free");
}

#[test]
fn free_ports_are_distinct_and_outside_the_ephemeral_range() {
    let (_, ephemeral_start) = unassigned_range();
    let ports: std::collections::BTreeSet<u16> = (0..50).map(|_| free_port()).collect();
    assert_eq!(ports.len(), 50, "{ports:?}");
    assert!(
        ports
            .iter()
            .all(|&p| (10_000..ephemeral_start).contains(&p)),
        "{ports:?}"
    );
}
