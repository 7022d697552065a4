use super::{default_namespace, is_gateway};

#[test]
fn the_json_token_of_current_proxies_gives_its_namespace() {
    let token = r#"{"ns":"mc-demo","nodeName":"node-1","pod":"bb-1"}"#;
    assert_eq!(default_namespace(token).as_deref(), Some("mc-demo"));
}

#[test]
fn the_token_of_older_proxies_gives_its_namespace() {
    assert_eq!(
        default_namespace("ns:emojivoto").as_deref(),
        Some("emojivoto")
    );
}

#[test]
fn anything_else_gives_no_namespace() {
    for token in [
        "",
        "mc-demo",
        "ns:",
        r#"{"ns":""}"#,
        r#"{"ns":3}"#,
        r#"{"pod":"bb-1"}"#,
        "{not json",
    ] {
        assert_eq!(default_namespace(token), None, "{token:?}");
    }
}

#[test]
fn only_a_json_true_gateway_field_claims_a_gateway() {
    assert!(is_gateway(
        r#"{"ns":"linkerd-multicluster","pod":"gw-1","gateway":true}"#
    ));
    for token in [
        "",
        r#"{"ns":"mc-demo","pod":"bb-1"}"#,
        r#"{"gateway":"true"}"#,
        r#"{"gateway":false}"#,
        "ns:gateway",
        "{not json",
    ] {
        assert!(!is_gateway(token), "{token:?}");
    }
}
