//! The protobuf message of the transport header, encoded and parsed by
//! hand: varints, length-delimited fields, and skipping the fields a newer
//! client may add, as protobuf readers must.

use std::num::NonZeroU16;

use super::{SessionProtocol, TransportHeader};

/// `Header.port`, a varint.
const PORT: u64 = 1;
/// `Header.name`, length-delimited.
const NAME: u64 = 2;
/// `Header.session_protocol`, length-delimited.
const SESSION_PROTOCOL: u64 = 3;
/// `SessionProtocol.http1` and `.http2`, empty messages.
const HTTP1: u64 = 1;
const HTTP2: u64 = 2;

const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

/// Why a header's message does not parse, naming the field at fault.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A varint ran past the message or past ten bytes.
    #[error("bad varint in {0}")]
    Varint(&'static str),
    /// A length-delimited or fixed field runs past its message.
    #[error("{0} runs past the end of the message")]
    Truncated(&'static str),
    /// A field uses a wire type protobuf no longer has (groups) or never had.
    #[error("field {field} has unsupported wire type {wire_type}")]
    WireType {
        /// The field's number.
        field: u64,
        /// Its wire type.
        wire_type: u64,
    },
    /// A known field arrived with another wire type than its own.
    #[error("{field} has wire type {wire_type}, not {expected}")]
    FieldType {
        /// The field's name.
        field: &'static str,
        /// Its wire type as sent.
        wire_type: u64,
        /// Its wire type as declared.
        expected: u64,
    },
    /// The port is missing (0) or not a TCP port.
    #[error("port {0} is not a TCP port (1-65535)")]
    Port(i64),
    /// The name is not UTF-8.
    #[error("name is not UTF-8")]
    NameNotUtf8,
}

pub(super) fn encode(header: &TransportHeader) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, PORT << 3 | VARINT);
    put_varint(&mut out, u64::from(header.port.get()));
    if let Some(name) = header.name.as_deref().filter(|name| !name.is_empty()) {
        put_varint(&mut out, NAME << 3 | LEN);
        put_varint(&mut out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
    }
    if let Some(protocol) = header.session_protocol {
        let kind = match protocol {
            SessionProtocol::Http1 => HTTP1,
            SessionProtocol::Http2 => HTTP2,
        };
        // SessionProtocol { kind: <empty message> }: a two-byte message.
        put_varint(&mut out, SESSION_PROTOCOL << 3 | LEN);
        put_varint(&mut out, 2);
        put_varint(&mut out, kind << 3 | LEN);
        put_varint(&mut out, 0);
    }
    out
}

pub(super) fn decode(message: &[u8]) -> Result<TransportHeader, DecodeError> {
    let mut reader = Reader(message);
    let mut port: i64 = 0;
    let mut name = None;
    let mut session_protocol = None;
    while let Some((field, wire_type)) = reader.key()? {
        match field {
            PORT => {
                expect(wire_type, VARINT, "port")?;
                // int32: negative values arrive sign-extended to 64 bits,
                // and protobuf readers truncate to 32.
                port = i64::from(reader.varint("port")? as i32);
            }
            NAME => {
                expect(wire_type, LEN, "name")?;
                let bytes = reader.bytes("name")?;
                let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::NameNotUtf8)?;
                name = (!text.is_empty()).then(|| text.to_string());
            }
            SESSION_PROTOCOL => {
                expect(wire_type, LEN, "session_protocol")?;
                session_protocol = session(reader.bytes("session_protocol")?)?;
            }
            _ => reader.skip(field, wire_type)?,
        }
    }
    let port = u16::try_from(port)
        .ok()
        .and_then(NonZeroU16::new)
        .ok_or(DecodeError::Port(port))?;
    Ok(TransportHeader {
        port,
        name,
        session_protocol,
    })
}

/// `SessionProtocol`: the last of its `oneof` present wins, as protobuf's.
fn session(message: &[u8]) -> Result<Option<SessionProtocol>, DecodeError> {
    let mut reader = Reader(message);
    let mut kind = None;
    while let Some((field, wire_type)) = reader.key()? {
        match field {
            HTTP1 | HTTP2 => {
                expect(wire_type, LEN, "session_protocol.kind")?;
                reader.bytes("session_protocol.kind")?;
                kind = Some(if field == HTTP1 {
                    SessionProtocol::Http1
                } else {
                    SessionProtocol::Http2
                });
            }
            _ => reader.skip(field, wire_type)?,
        }
    }
    Ok(kind)
}

fn expect(wire_type: u64, expected: u64, field: &'static str) -> Result<(), DecodeError> {
    if wire_type == expected {
        Ok(())
    } else {
        Err(DecodeError::FieldType {
            field,
            wire_type,
            expected,
        })
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The unread rest of a message.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// The next field's number and wire type; `None` at the end.
    fn key(&mut self) -> Result<Option<(u64, u64)>, DecodeError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let key = self.varint("a field key")?;
        Ok(Some((key >> 3, key & 0x7)))
    }

    fn varint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for (i, byte) in self.0.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return Ok(value);
            }
        }
        Err(DecodeError::Varint(field))
    }

    fn take(&mut self, n: u64, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| DecodeError::Truncated(field))?;
        if n > self.0.len() {
            return Err(DecodeError::Truncated(field));
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(taken)
    }

    fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.varint(field)?;
        self.take(len, field)
    }

    /// Passes over a field this reader does not know.
    fn skip(&mut self, field: u64, wire_type: u64) -> Result<(), DecodeError> {
        const UNKNOWN: &str = "an unknown field";
        match wire_type {
            VARINT => self.varint(UNKNOWN).map(drop),
            FIXED64 => self.take(8, UNKNOWN).map(drop),
            LEN => self.bytes(UNKNOWN).map(drop),
            FIXED32 => self.take(4, UNKNOWN).map(drop),
            _ => Err(DecodeError::WireType { field, wire_type }),
        }
    }
}
