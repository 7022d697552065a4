use super::*;

#[test]
fn digest_is_lowercase_hex_sha256() {
    // FIPS 180-2, appendix B.1.
    assert_eq!(
        plugin_digest(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        plugin_digest(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn kinds_round_trip_through_their_wire_names() {
    for kind in PluginKind::ALL {
        assert_eq!(kind.as_str().parse::<PluginKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.as_str());
    }
    assert_eq!("authz".parse::<PluginKind>(), Ok(PluginKind::Authz));
    assert_eq!("export".parse::<PluginKind>(), Ok(PluginKind::Export));
}

#[test]
fn unknown_kinds_are_named_in_the_error() {
    for name in ["Authz", "", "authz ", "policy"] {
        let error = name.parse::<PluginKind>().expect_err("unknown");
        assert_eq!(error, UnknownKind(name.to_string()));
        assert!(error.to_string().contains(&format!("{name:?}")), "{error}");
    }
}

#[test]
fn each_kind_exports_an_interface_of_its_own_package() {
    for kind in PluginKind::ALL {
        assert!(kind.entry_point().starts_with(kind.package()), "{kind}");
        assert!(kind.world().starts_with(kind.package()), "{kind}");
    }
    assert_ne!(PluginKind::Authz.package(), PluginKind::Export.package());
}

#[test]
fn a_short_digest_is_its_first_twelve_digits() {
    let digest = plugin_digest(b"abc");
    assert_eq!(short_digest(&digest), "ba7816bf8f01");
    assert_eq!(short_digest("abc"), "abc");
    assert_eq!(short_digest(""), "");
}
