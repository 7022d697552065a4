use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn labels_to_set_and_remove_are_parsed() {
    let request = parse(
        &args(&[
            "svc/bb",
            "mirror.linkerd.io/exported=remote-discovery",
            "team-",
        ]),
        false,
        Some("mc-demo".into()),
    )
    .unwrap();
    assert_eq!(request.kind, "Service");
    assert_eq!(request.name, "bb");
    assert_eq!(request.namespace.as_deref(), Some("mc-demo"));
    assert_eq!(
        request.set["mirror.linkerd.io/exported"],
        "remote-discovery"
    );
    assert_eq!(request.remove, vec!["team".to_string()]);

    let spaced = parse(&args(&["deploy", "bb", "a=b"]), true, None).unwrap();
    assert_eq!(
        (spaced.kind.as_str(), spaced.name.as_str()),
        ("Deployment", "bb")
    );
    assert!(spaced.overwrite);

    assert!(parse(&args(&["svc/bb"]), false, None).is_err());
    assert!(parse(&args(&["svc/bb", "nonsense"]), false, None).is_err());
}

#[test]
fn keys_and_values_are_checked_before_anything_is_sent() {
    assert_eq!(
        parse(&args(&["svc/bb", "bad key=x"]), false, None),
        Err(LabelError::InvalidKey("bad key".into()))
    );
    assert!(matches!(
        parse(&args(&["svc/bb", "a=-x"]), false, None),
        Err(LabelError::InvalidValue { .. })
    ));
    assert_eq!(
        parse(&args(&["svc/bb", "a=b", "a-"]), false, None),
        Err(LabelError::SetAndRemoved("a".into()))
    );
    assert!(parse(&args(&["svc/bb", "example.com/a=b", "c="]), false, None).is_ok());
}
