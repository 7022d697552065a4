use super::*;

#[test]
fn a_file_must_be_a_non_empty_list() {
    assert!(matches!(
        load("name: x", PluginKind::Authz).unwrap_err(),
        CasesError::NotAList(found) if found == "a mapping"
    ));
    assert!(matches!(
        load("[]", PluginKind::Export).unwrap_err(),
        CasesError::Empty
    ));
    assert!(matches!(
        load("- [unclosed", PluginKind::Export).unwrap_err(),
        CasesError::Yaml(_)
    ));
}

#[test]
fn cases_of_the_other_kind_are_named() {
    let text = "- name: ok\n  client: tls\n  expect: deny\n";
    let err = load(text, PluginKind::Export).unwrap_err();
    assert_eq!(
        err.to_string(),
        "case 0 (\"ok\") is an authz case (it has `client`), but the plugin is an export plugin"
    );
    let text =
        "- name: svc\n  service: {name: a, namespace: b}\n  link: {name: l}\n  expect: gateway\n";
    let err = load(text, PluginKind::Authz).unwrap_err();
    assert!(matches!(
        err,
        CasesError::WrongKind {
            case_kind: PluginKind::Export,
            field: "service",
            ..
        }
    ));
}

#[test]
fn a_case_needs_a_name_and_a_mapping() {
    let err = load("- client: tls\n  expect: deny\n", PluginKind::Authz).unwrap_err();
    assert_eq!(err.to_string(), "case 0: name: missing");
    assert!(
        matches!(
            &err,
            CasesError::Field {
                field,
                reason: FieldFault::Missing,
                ..
            } if field == "name"
        ),
        "{err:?}"
    );
    let err = load("- just a string\n", PluginKind::Authz).unwrap_err();
    assert_eq!(
        err.to_string(),
        "case 0: (case): expected a mapping, found a string"
    );
}

#[test]
fn an_unknown_top_level_field_is_refused() {
    let text = "- name: typo\n  client: tls\n  expct: deny\n  expect: deny\n";
    let err = load(text, PluginKind::Authz).unwrap_err().to_string();
    assert!(
        err.starts_with("case 0 (\"typo\"): expct: unknown field"),
        "{err}"
    );
}
