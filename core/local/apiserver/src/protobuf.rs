//! Request bodies in the API's protobuf encoding, which kubectl's typed
//! clients send for built-in kinds (`kubectl create namespace`,
//! `create configmap`, `create secret`, `create serviceaccount`): the
//! `k8s\0` envelope (`runtime.Unknown`) and the fields of those kinds a
//! client sets, read into the JSON the store holds. Fields only the server
//! sets (uid, resourceVersion, timestamps, managed fields, status) are
//! skipped, as the server would overwrite them. Other kinds are refused
//! with a message naming them, never guessed at.

use serde_json::{Map, Value, json};

/// The magic number that opens every protobuf-encoded object.
const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The envelope or a message is malformed.
    #[error("the protobuf body is malformed: {0}")]
    Malformed(&'static str),
    /// The kind is not one read from protobuf here.
    #[error(
        "protobuf bodies are read for Namespace, ConfigMap, Secret and ServiceAccount only; send {kind} as JSON or YAML (kubectl apply -f)"
    )]
    Unsupported {
        /// The body's kind.
        kind: String,
    },
}

/// One field of a message.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one message, in order.
fn fields(mut buf: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, ProtobufError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(&mut buf)?),
            1 => skip(&mut buf, 8)?,
            2 => {
                let len = usize::try_from(varint(&mut buf)?)
                    .map_err(|_| ProtobufError::Malformed("a length does not fit"))?;
                if len > buf.len() {
                    return Err(ProtobufError::Malformed("a field runs past the end"));
                }
                let (bytes, rest) = buf.split_at(len);
                buf = rest;
                Wire::Bytes(bytes)
            }
            5 => skip(&mut buf, 4)?,
            _ => return Err(ProtobufError::Malformed("an unknown wire type")),
        };
        out.push((key >> 3, wire));
    }
    Ok(out)
}

fn skip<'a>(buf: &mut &'a [u8], n: usize) -> Result<Wire<'a>, ProtobufError> {
    if buf.len() < n {
        return Err(ProtobufError::Malformed(
            "a fixed-size field runs past the end",
        ));
    }
    *buf = &buf[n..];
    Ok(Wire::Fixed)
}

fn varint(buf: &mut &[u8]) -> Result<u64, ProtobufError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf
            .split_first()
            .ok_or(ProtobufError::Malformed("a number runs past the end"))?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtobufError::Malformed("a number is too long"))
}

fn text(bytes: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtobufError::Malformed("a string is not UTF-8"))
}

/// A `map<string, string>` entry (or `map<string, bytes>`, base64 in JSON).
fn entry(bytes: &[u8], binary: bool) -> Result<(String, Value), ProtobufError> {
    let (mut key, mut value) = (String::new(), Value::String(String::new()));
    for (number, wire) in fields(bytes)? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => key = text(b)?,
            (2, Wire::Bytes(b)) if binary => {
                value = serde_json::to_value(k8s_openapi_bytes(b)).unwrap_or(Value::Null)
            }
            (2, Wire::Bytes(b)) => value = Value::String(text(b)?),
            _ => {}
        }
    }
    Ok((key, value))
}

/// Base64 of `bytes`, as JSON carries `[]byte` fields (k8s-openapi's
/// ByteString is the encoder).
fn k8s_openapi_bytes(bytes: &[u8]) -> k8s_openapi::ByteString {
    k8s_openapi::ByteString(bytes.to_vec())
}

fn insert_entry(
    map: &mut Map<String, Value>,
    bytes: &[u8],
    binary: bool,
) -> Result<(), ProtobufError> {
    let (k, v) = entry(bytes, binary)?;
    map.insert(k, v);
    Ok(())
}

/// The client-set fields of an `ObjectMeta`.
fn object_meta(bytes: &[u8]) -> Result<Value, ProtobufError> {
    let mut meta = Map::new();
    let (mut labels, mut annotations, mut finalizers) = (Map::new(), Map::new(), Vec::new());
    for (number, wire) in fields(bytes)? {
        let Wire::Bytes(b) = wire else { continue };
        match number {
            1 => drop(meta.insert("name".into(), Value::String(text(b)?))),
            2 => drop(meta.insert("generateName".into(), Value::String(text(b)?))),
            3 => drop(meta.insert("namespace".into(), Value::String(text(b)?))),
            11 => insert_entry(&mut labels, b, false)?,
            12 => insert_entry(&mut annotations, b, false)?,
            14 => finalizers.push(Value::String(text(b)?)),
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        meta.insert("finalizers".into(), Value::Array(finalizers));
    }
    Ok(Value::Object(meta))
}

/// Reads a protobuf request body as the JSON object it encodes.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let unknown = body
        .strip_prefix(MAGIC)
        .ok_or(ProtobufError::Malformed("the k8s\\0 prefix is missing"))?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (number, wire) in fields(unknown)? {
        match (number, wire) {
            (1, Wire::Bytes(type_meta)) => {
                for (n, w) in fields(type_meta)? {
                    match (n, w) {
                        (1, Wire::Bytes(b)) => api_version = text(b)?,
                        (2, Wire::Bytes(b)) => kind = text(b)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let mut object = json!({"apiVersion": api_version, "kind": kind});
    let body = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => namespace(raw)?,
        ("v1", "ConfigMap") => config_map(raw)?,
        ("v1", "Secret") => secret(raw)?,
        ("v1", "ServiceAccount") => service_account(raw)?,
        _ => return Err(ProtobufError::Unsupported { kind }),
    };
    if let (Some(object), Value::Object(body)) = (object.as_object_mut(), body) {
        object.extend(body);
    }
    Ok(object)
}

fn namespace(raw: &[u8]) -> Result<Value, ProtobufError> {
    let mut out = Map::new();
    for (number, wire) in fields(raw)? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => drop(out.insert("metadata".into(), object_meta(b)?)),
            (2, Wire::Bytes(spec)) => {
                let mut finalizers = Vec::new();
                for (n, w) in fields(spec)? {
                    if let (1, Wire::Bytes(f)) = (n, w) {
                        finalizers.push(Value::String(text(f)?));
                    }
                }
                out.insert("spec".into(), json!({"finalizers": finalizers}));
            }
            _ => {}
        }
    }
    Ok(Value::Object(out))
}

fn config_map(raw: &[u8]) -> Result<Value, ProtobufError> {
    let mut out = Map::new();
    let (mut data, mut binary) = (Map::new(), Map::new());
    for (number, wire) in fields(raw)? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => drop(out.insert("metadata".into(), object_meta(b)?)),
            (2, Wire::Bytes(b)) => insert_entry(&mut data, b, false)?,
            (3, Wire::Bytes(b)) => insert_entry(&mut binary, b, true)?,
            (4, Wire::Varint(v)) => drop(out.insert("immutable".into(), Value::Bool(v != 0))),
            _ => {}
        }
    }
    if !data.is_empty() {
        out.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        out.insert("binaryData".into(), Value::Object(binary));
    }
    Ok(Value::Object(out))
}

fn secret(raw: &[u8]) -> Result<Value, ProtobufError> {
    let mut out = Map::new();
    let mut data = Map::new();
    for (number, wire) in fields(raw)? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => drop(out.insert("metadata".into(), object_meta(b)?)),
            (2, Wire::Bytes(b)) => insert_entry(&mut data, b, true)?,
            (3, Wire::Bytes(b)) => drop(out.insert("type".into(), Value::String(text(b)?))),
            (5, Wire::Varint(v)) => drop(out.insert("immutable".into(), Value::Bool(v != 0))),
            _ => {}
        }
    }
    if !data.is_empty() {
        out.insert("data".into(), Value::Object(data));
    }
    Ok(Value::Object(out))
}

fn service_account(raw: &[u8]) -> Result<Value, ProtobufError> {
    let mut out = Map::new();
    let mut pull = Vec::new();
    for (number, wire) in fields(raw)? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => drop(out.insert("metadata".into(), object_meta(b)?)),
            (3, Wire::Bytes(b)) => {
                for (n, w) in fields(b)? {
                    if let (1, Wire::Bytes(name)) = (n, w) {
                        pull.push(json!({"name": text(name)?}));
                    }
                }
            }
            (4, Wire::Varint(v)) => {
                out.insert("automountServiceAccountToken".into(), Value::Bool(v != 0));
            }
            _ => {}
        }
    }
    if !pull.is_empty() {
        out.insert("imagePullSecrets".into(), Value::Array(pull));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests;
