/// A component starts with the preamble `\0asm`, then version 0x0d and layer 1;
/// a core module would have layer 0. This guards against embedding a core
/// module or an empty file if the toolchain changes its output.
fn is_component(bytes: &[u8]) -> bool {
    bytes.len() > 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [1, 0]
}

#[test]
fn defaults_are_components() {
    assert!(
        is_component(super::AUTHZ_DEFAULT),
        "authz default is not a component"
    );
    assert!(
        is_component(super::EXPORT_DEFAULT),
        "export default is not a component"
    );
}

#[test]
fn defaults_are_small_release_builds() {
    // Debug info or a debug build would make the embedded plugins balloon.
    for (name, bytes) in [
        ("authz", super::AUTHZ_DEFAULT),
        ("export", super::EXPORT_DEFAULT),
    ] {
        assert!(
            bytes.len() < 1 << 20,
            "{name} default is {} bytes",
            bytes.len()
        );
    }
}
