use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU16;
use std::time::Duration;

use strait_io::TransportHeader;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Refused, header_target};

const POD: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 5));
const CLIENT: Option<&str> = Some("web.emojivoto.serviceaccount.identity.linkerd.cluster.local");
const LIMIT: Duration = Duration::from_secs(5);

fn port(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

#[tokio::test]
async fn a_meshed_clients_header_names_the_pods_port_and_leaves_the_payload() {
    let mut bytes = TransportHeader::opaque(port(3306)).encode().to_vec();
    bytes.extend_from_slice(b"payload");
    let mut io = &bytes[..];
    let target = header_target(&mut io, CLIENT, POD, LIMIT).await;
    assert_eq!(target.ok(), Some(SocketAddr::new(POD, 3306)));
    let mut rest = Vec::new();
    io.read_to_end(&mut rest).await.ok();
    assert_eq!(rest, b"payload");
}

#[tokio::test]
async fn a_client_without_identity_is_refused_before_reading() {
    let bytes = TransportHeader::opaque(port(3306)).encode();
    let mut io = &bytes[..];
    let refused = header_target(&mut io, None, POD, LIMIT).await;
    assert!(matches!(refused, Err(Refused::NoIdentity)));
    assert_eq!(io.len(), bytes.len(), "nothing was read");
}

#[tokio::test]
async fn a_name_for_gateway_forwarding_is_refused() {
    let header = TransportHeader {
        name: Some("web.emojivoto.svc.cluster.local".to_string()),
        ..TransportHeader::opaque(port(80))
    };
    let bytes = header.encode();
    let refused = header_target(&mut &bytes[..], CLIENT, POD, LIMIT).await;
    assert!(
        matches!(refused, Err(Refused::Name(name)) if name == "web.emojivoto.svc.cluster.local")
    );
}

#[tokio::test]
async fn a_bad_or_missing_header_is_refused() {
    let refused = header_target(
        &mut &b"GET / HTTP/1.1\r\n\r\n.........."[..],
        CLIENT,
        POD,
        LIMIT,
    )
    .await;
    assert!(matches!(refused, Err(Refused::Header(_))), "{refused:?}");

    // A client that sends nothing in time.
    let (mut silent, mut client) = tokio::io::duplex(64);
    let wait = Duration::from_millis(50);
    let refused = header_target(&mut silent, CLIENT, POD, wait).await;
    assert!(matches!(refused, Err(Refused::Timeout(_))), "{refused:?}");
    client.shutdown().await.ok();
}
