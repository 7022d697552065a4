use serde_json::{Value, json};

use super::*;

#[test]
fn content_types_name_the_four_patch_types() {
    let cases = [
        ("application/json-patch+json", Some(PatchType::Json)),
        ("application/merge-patch+json", Some(PatchType::Merge)),
        (
            "application/strategic-merge-patch+json",
            Some(PatchType::Strategic),
        ),
        ("application/apply-patch+yaml", Some(PatchType::Apply)),
        (
            "application/merge-patch+json; charset=utf-8",
            Some(PatchType::Merge),
        ),
        ("Application/JSON-Patch+JSON", Some(PatchType::Json)),
        ("application/apply-patch+cbor", None),
        ("application/json", None),
        ("", None),
    ];
    for (content_type, expected) in cases {
        assert_eq!(
            PatchType::from_content_type(content_type),
            expected,
            "{content_type:?}"
        );
    }
    for patch_type in [
        PatchType::Json,
        PatchType::Merge,
        PatchType::Strategic,
        PatchType::Apply,
    ] {
        assert_eq!(
            PatchType::from_content_type(patch_type.content_type()),
            Some(patch_type)
        );
    }
}

#[test]
fn merge_patch_sets_and_deletes_labels() {
    let service = json!({"metadata": {"name": "bb", "labels": {"app": "bb", "old": "x"}}});
    let patch = json!({"metadata": {"labels": {
        "mirror.linkerd.io/exported": "remote-discovery",
        "old": null,
    }}});
    let out = merge_patch(&service, &patch).unwrap();
    assert_eq!(
        out["metadata"]["labels"],
        json!({"app": "bb", "mirror.linkerd.io/exported": "remote-discovery"})
    );
    assert_eq!(out["metadata"]["name"], "bb");
}

#[test]
fn merge_patch_replaces_lists_whole() {
    let service = json!({"spec": {"ports": [{"port": 80}, {"port": 443}]}});
    let out = merge_patch(&service, &json!({"spec": {"ports": [{"port": 8080}]}})).unwrap();
    assert_eq!(out["spec"]["ports"], json!([{"port": 8080}]));
}

#[test]
fn merge_patch_must_be_an_object() {
    let err = merge_patch(&json!({}), &json!([1])).unwrap_err();
    assert_eq!(
        err,
        PatchError::NotAnObject {
            what: "a merge patch",
            found: "an array"
        }
    );
}

#[test]
fn apply_body_reads_yaml_and_json() {
    let yaml = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n";
    let parsed = parse_apply_body(yaml).unwrap();
    assert_eq!(parsed["metadata"]["name"], "c");
    assert_eq!(parsed["data"]["a"], "1");
    let json = b"{\n\t\"kind\": \"ConfigMap\",\n\t\"data\": {\"a\": \"1\"}\n}";
    let parsed = parse_apply_body(json).unwrap();
    assert_eq!(parsed["kind"], "ConfigMap");
}

#[test]
fn apply_body_must_be_one_object() {
    assert!(matches!(
        parse_apply_body(b"- a\n- b\n"),
        Err(PatchError::NotAnObject {
            found: "an array",
            ..
        })
    ));
    assert!(matches!(
        parse_apply_body(b"kind: A\n---\nkind: B\n"),
        Err(PatchError::ApplyBody { .. })
    ));
    assert!(matches!(
        parse_apply_body(b"kind: [unclosed\n"),
        Err(PatchError::ApplyBody { .. })
    ));
    assert!(matches!(
        parse_apply_body(b""),
        Err(PatchError::NotAnObject { .. }) | Err(PatchError::ApplyBody { .. })
    ));
}

/// A value `depth` objects deep: `{"a": {"a": ... {"a": 1}}}`.
pub(super) fn nested(depth: usize) -> Value {
    // Built by hand: `json!` would serialize the inner value, recursively.
    let mut value = json!(1);
    for _ in 0..depth {
        let mut map = serde_json::Map::new();
        map.insert("a".to_owned(), value);
        value = Value::Object(map);
    }
    value
}

/// Takes a deep value apart one level at a time, so that dropping it in a
/// test does not recurse as deep as it nests.
pub(super) fn dismantle(mut value: Value) {
    while let Value::Object(mut map) = value {
        value = map.remove("a").unwrap_or(Value::Null);
    }
}

#[test]
fn depth_limit_is_exact() {
    assert_eq!(check_depth(&nested(MAX_DEPTH)), Ok(()));
    let err = check_depth(&nested(MAX_DEPTH + 1)).unwrap_err();
    let PatchError::TooDeep { limit, pointer } = err else {
        panic!("expected TooDeep, got {err:?}");
    };
    assert_eq!(limit, MAX_DEPTH);
    assert_eq!(pointer, "/a".repeat(MAX_DEPTH));
}

#[test]
fn very_deep_patches_are_refused_without_recursing() {
    let deep = nested(200_000);
    let merge = merge_patch(&json!({}), &deep);
    assert!(
        matches!(merge, Err(PatchError::TooDeep { .. })),
        "{merge:?}"
    );
    let apply_ops = json!([{"op": "add", "path": "/x", "value": null}]);
    let mut ops = apply_ops;
    ops[0]["value"] = deep;
    let json = json_patch(&json!({}), &ops);
    assert!(matches!(json, Err(PatchError::TooDeep { .. })), "{json:?}");
    let Value::Array(mut items) = ops else {
        panic!("ops is an array");
    };
    if let Some(Value::Object(mut op)) = items.pop() {
        dismantle(op.remove("value").unwrap_or(Value::Null));
    }
}

#[test]
fn deeply_nested_yaml_is_refused() {
    let body = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let err = parse_apply_body(body.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            PatchError::ApplyBody { .. } | PatchError::NotAnObject { .. }
        ),
        "{err:?}"
    );
    let body = format!("{}1{}", "{\"a\":".repeat(150), "}".repeat(150));
    let err = parse_apply_body(body.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            PatchError::TooDeep { .. } | PatchError::ApplyBody { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn numbers_compare_by_value() {
    assert!(json_equal(&json!(1), &json!(1.0)));
    assert!(json_equal(&json!({"a": [1, 2]}), &json!({"a": [1.0, 2]})));
    assert!(!json_equal(&json!(1), &json!("1")));
    assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
}
