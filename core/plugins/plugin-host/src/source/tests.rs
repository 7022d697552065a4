use super::*;

#[test]
fn a_missing_file_is_named() {
    let err = PluginSource::File(Path::new("no/such/plugin.wasm"))
        .read()
        .unwrap_err()
        .to_string();
    assert!(err.contains("no/such/plugin.wasm"), "{err}");
}

fn classify(bytes: &[u8]) -> Result<Vec<u8>, String> {
    PluginBytes {
        origin: "test".into(),
        bytes: bytes.to_vec(),
        version: None,
    }
    .component_binary()
    .map(|b| b.into_owned())
    .map_err(|e| e.to_string())
}

#[test]
fn classifies_bytes_before_compiling() {
    assert!(classify(b"").unwrap_err().contains("empty"));
    assert!(
        classify(b"\0asm\x01\0\0\0")
            .unwrap_err()
            .contains("core Wasm module")
    );
    assert!(
        classify(b"\0asm\x0d\0\x07\0")
            .unwrap_err()
            .contains("unknown version")
    );
    assert!(classify(b"PK\x03\x04").unwrap_err().contains("50 4b 03 04"));
    assert!(classify(b"hello").unwrap_err().contains("neither"));
    let component = classify(b";; a comment\n(; block ;) (component)").unwrap();
    assert_eq!(&component[..4], b"\0asm");
    assert!(classify(b"(module)").unwrap_err().contains("core module"));
}
