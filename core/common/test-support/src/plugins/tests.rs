use super::*;

#[test]
fn the_built_in_plugins_load() {
    let host = host();
    builtin_authz(&host);
    builtin_export(&host);
}

#[test]
fn the_authz_bytes_carry_the_version_given() {
    assert_eq!(builtin_authz_bytes(None).version, None);
    assert_eq!(
        builtin_authz_bytes(Some("v2")).version.as_deref(),
        Some("v2")
    );
    assert_eq!(
        builtin_authz_bytes(None).bytes,
        strait_default_plugins::AUTHZ_DEFAULT
    );
}
