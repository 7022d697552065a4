use strait_plugin_host::{PluginError, PluginKind, PluginSource};

use super::{check, read, validate};

#[test]
fn the_built_in_plugins_pass_the_check_of_their_kind() {
    for kind in [PluginKind::Authz, PluginKind::Export] {
        let info = check(kind, None).unwrap();
        assert_eq!(info.kind, kind);
        assert_eq!(info.digest.len(), 64, "{}", info.digest);
        assert!(read(kind, None).unwrap().origin.contains("built-in"));
    }
}

#[test]
fn a_plugin_is_validated_as_the_world_it_implements_unless_a_kind_is_given() {
    let export = read(PluginKind::Export, None).unwrap();
    assert_eq!(validate(&export, None).unwrap().kind, PluginKind::Export);
    let authz = read(PluginKind::Authz, None).unwrap();
    assert_eq!(validate(&authz, None).unwrap().kind, PluginKind::Authz);
    let error = validate(&export, Some(PluginKind::Authz)).unwrap_err();
    assert!(matches!(error, PluginError::WrongWorld { .. }), "{error}");
}

#[test]
fn a_component_of_neither_world_is_refused_naming_both() {
    let empty = PluginSource::Bytes {
        name: "empty.wat",
        bytes: b"(component)",
    }
    .read()
    .unwrap();
    let error = validate(&empty, None).unwrap_err().to_string();
    assert!(error.contains(PluginKind::Authz.world()), "{error}");
    assert!(error.contains(PluginKind::Export.world()), "{error}");
    assert!(error.contains("empty.wat"), "{error}");
}

#[test]
fn a_missing_file_is_named() {
    let error = check(PluginKind::Authz, Some("/nonexistent/p.wasm".as_ref())).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/p.wasm"), "{error}");
}
