use super::*;

#[test]
fn lists_expand_and_a_syntax_error_ends_the_stream() {
    let docs = documents("kind: List\nitems: [{kind: A}, {kind: B}]\n---\n---\na: [\n---\nb: 1\n");
    assert_eq!(docs.len(), 3);
    let first = docs[0].clone().unwrap();
    let items = expand(first);
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["kind"], "B");
    assert_eq!(docs[1], Ok(Value::Null));
    assert!(docs[2].as_ref().unwrap_err().starts_with("invalid YAML"));
    assert_eq!(
        documents("{\"kind\": \"A\"}")[0].as_ref().unwrap()["kind"],
        "A"
    );
}

#[test]
fn a_failure_says_what_stays_applied() {
    let applied = AppliedObject {
        object: ObjectId {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: Some("mc-demo".into()),
            name: "a".into(),
        },
        outcome: ApplyOutcome::Created,
    };
    let failure = ApplyFailure {
        document: 2,
        applied: vec![applied],
        server_reason: Some("NotFound".into()),
        reason: "ConfigMap \"b\": namespaces \"nowhere\" not found".into(),
    };
    assert_eq!(
        failure.to_string(),
        "Error from server (NotFound): document 2: ConfigMap \"b\": namespaces \"nowhere\" not found; the object before it was applied and stays applied"
    );
}
