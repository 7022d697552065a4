use super::*;

/// Encodes a length-delimited field.
fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![((number << 3) | 2) as u8];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
    out
}

fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
    [b"k8s\0".to_vec(), field(1, &type_meta), field(2, raw)].concat()
}

#[test]
fn kubectl_create_namespace_reads_as_the_json_it_encodes() {
    let label = [field(1, b"team"), field(2, b"mc")].concat();
    let meta = [field(1, b"mc-demo"), field(11, &label)].concat();
    let spec = field(1, b"kubernetes");
    let body = envelope(
        "v1",
        "Namespace",
        &[field(1, &meta), field(2, &spec)].concat(),
    );
    let object = decode(&body).unwrap();
    assert_eq!(
        object,
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "mc-demo", "labels": {"team": "mc"}},
            "spec": {"finalizers": ["kubernetes"]},
        })
    );
}

#[test]
fn secrets_carry_their_data_as_base64() {
    let meta = field(1, b"creds");
    let entry = [field(1, b"token"), field(2, b"hi!")].concat();
    let raw = [field(1, &meta), field(2, &entry), field(3, b"Opaque")].concat();
    let object = decode(&envelope("v1", "Secret", &raw)).unwrap();
    assert_eq!(object["data"]["token"], "aGkh");
    assert_eq!(object["type"], "Opaque");
}

#[test]
fn other_kinds_and_broken_bodies_are_refused_by_name() {
    let deployment = envelope("apps/v1", "Deployment", &[]);
    assert_eq!(
        decode(&deployment).unwrap_err(),
        ProtobufError::Unsupported {
            kind: "Deployment".into()
        }
    );
    assert!(matches!(
        decode(b"{\"kind\":1}"),
        Err(ProtobufError::Malformed(_))
    ));
    let mut cut = envelope("v1", "Namespace", &field(1, &field(1, b"x")));
    cut.truncate(cut.len() - 1);
    assert!(matches!(decode(&cut), Err(ProtobufError::Malformed(_))));
    assert!(matches!(
        decode(b"k8s\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
        Err(ProtobufError::Malformed(_))
    ));
}
