use std::num::NonZeroU16;

use super::*;

fn port(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

/// Preface, length and `message`, as a client would frame it.
fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

async fn read(bytes: &[u8]) -> Result<TransportHeader, HeaderError> {
    TransportHeader::read(&mut &bytes[..]).await
}

#[test]
fn port_9090_is_encoded_as_protobuf_would() {
    // Field 1, varint (0x08); 9090 = 71 * 128 + 2: 0x82 0x47.
    let expected = [
        b"transport.l5d.io/v1\r\n\r\n".as_slice(),
        &[0, 0, 0, 3],
        &[0x08, 0x82, 0x47],
    ]
    .concat();
    assert_eq!(
        TransportHeader::opaque(port(9090)).encode().as_ref(),
        &expected[..]
    );
}

#[test]
fn name_and_session_protocol_are_encoded_as_protobuf_would() {
    let header = TransportHeader {
        port: port(80),
        name: Some("web".to_string()),
        session_protocol: Some(SessionProtocol::Http2),
    };
    let message = [
        0x08, 80, // port
        0x12, 3, b'w', b'e', b'b', // name
        0x1a, 2, 0x12, 0, // session_protocol { http2 {} }
    ];
    assert_eq!(header.encode().as_ref(), &framed(&message)[..]);
}

#[tokio::test]
async fn headers_round_trip_and_leave_the_payload_unread() {
    for header in [
        TransportHeader::opaque(port(1)),
        TransportHeader::opaque(port(65535)),
        TransportHeader {
            port: port(4191),
            name: Some("bb.ns.svc.cluster.local".to_string()),
            session_protocol: Some(SessionProtocol::Http1),
        },
    ] {
        let mut bytes = header.encode().to_vec();
        bytes.extend_from_slice(b"payload");
        let mut io = &bytes[..];
        let read = TransportHeader::read(&mut io).await;
        assert_eq!(read.ok(), Some(header));
        assert_eq!(io, b"payload");
    }
}

#[tokio::test]
async fn unknown_fields_of_every_wire_type_are_skipped() {
    let message = [
        0x20, 0xff, 0x01, // field 4, varint
        0x29, 1, 2, 3, 4, 5, 6, 7, 8, // field 5, fixed64
        0x32, 2, 0xaa, 0xbb, // field 6, length-delimited
        0x3d, 1, 2, 3, 4, // field 7, fixed32
        0x08, 0x82, 0x47, // port 9090
        0x1a, 4, 0x18, 1, 0x0a, 0, // session_protocol { 3: 1, http1 {} }
    ];
    let header = read(&framed(&message)).await.ok();
    assert_eq!(
        header,
        Some(TransportHeader {
            port: port(9090),
            name: None,
            session_protocol: Some(SessionProtocol::Http1),
        })
    );
}

#[tokio::test]
async fn a_wrong_preface_is_refused() {
    let mut bytes = framed(&[0x08, 80]);
    bytes[0] = b'T';
    assert!(matches!(read(&bytes).await, Err(HeaderError::Preface)));
    let http = b"GET / HTTP/1.1\r\nHost: bb\r\n\r\n.....";
    assert!(matches!(read(http).await, Err(HeaderError::Preface)));
}

#[tokio::test]
async fn a_length_over_the_bound_is_refused_before_reading_it() {
    let mut bytes = PREFACE.to_vec();
    bytes.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        read(&bytes).await,
        Err(HeaderError::TooLong { len: u32::MAX })
    ));
    let mut bytes = PREFACE.to_vec();
    bytes.extend_from_slice(&((MAX_MESSAGE_LEN as u32) + 1).to_be_bytes());
    assert!(matches!(
        read(&bytes).await,
        Err(HeaderError::TooLong { .. })
    ));
}

#[tokio::test]
async fn truncated_headers_name_the_part_cut_short() {
    let whole = framed(&[0x08, 0x82, 0x47]);
    for (cut, part) in [
        (10, "preface"),
        (PREFACE.len() + 2, "length"),
        (whole.len() - 1, "message"),
    ] {
        match read(&whole[..cut]).await {
            Err(HeaderError::Truncated(at)) => assert_eq!(at, part, "cut at {cut}"),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn malformed_messages_name_the_field_at_fault() {
    let cases: [(&[u8], DecodeError); 8] = [
        (&[0x08, 0x80], DecodeError::Varint("port")),
        (
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            DecodeError::Varint("port"),
        ),
        (&[0x12, 5, b'a'], DecodeError::Truncated("name")),
        (&[0x08, 80, 0x12, 1, 0xff], DecodeError::NameNotUtf8),
        (
            &[0x0a, 0],
            DecodeError::FieldType {
                field: "port",
                wire_type: 2,
                expected: 0,
            },
        ),
        (
            &[0x4b],
            DecodeError::WireType {
                field: 9,
                wire_type: 3,
            },
        ),
        (&[], DecodeError::Port(0)),
        (&[0x08, 0x80, 0x80, 0x04], DecodeError::Port(65536)),
    ];
    for (message, expected) in cases {
        match read(&framed(message)).await {
            Err(HeaderError::Message(error)) => assert_eq!(error, expected, "{message:?}"),
            other => panic!("{message:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_negative_port_is_refused() {
    // int32 -1: ten bytes, sign-extended.
    let message = [
        0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    assert!(matches!(
        read(&framed(&message)).await,
        Err(HeaderError::Message(DecodeError::Port(-1)))
    ));
}
