//! RFC 6902 appendix A, and the errors the API server's clients see.

use serde_json::{Value, json};

use super::*;
use crate::patch::JsonPatchReason;

fn apply(doc: Value, patch: Value) -> Result<Value, PatchError> {
    json_patch(&doc, &patch)
}

fn reason(result: Result<Value, PatchError>) -> (usize, JsonPatchReason) {
    match result {
        Err(PatchError::JsonPatchOp { index, reason, .. }) => (index, reason),
        other => panic!("expected an operation error, got {other:?}"),
    }
}

#[test]
fn a1_add_object_member() {
    let out = apply(
        json!({"foo": "bar"}),
        json!([{"op": "add", "path": "/baz", "value": "qux"}]),
    );
    assert_eq!(out.unwrap(), json!({"baz": "qux", "foo": "bar"}));
}

#[test]
fn a2_add_array_element() {
    let out = apply(
        json!({"foo": ["bar", "baz"]}),
        json!([{"op": "add", "path": "/foo/1", "value": "qux"}]),
    );
    assert_eq!(out.unwrap(), json!({"foo": ["bar", "qux", "baz"]}));
}

#[test]
fn a3_remove_object_member() {
    let out = apply(
        json!({"baz": "qux", "foo": "bar"}),
        json!([{"op": "remove", "path": "/baz"}]),
    );
    assert_eq!(out.unwrap(), json!({"foo": "bar"}));
}

#[test]
fn a4_remove_array_element() {
    let out = apply(
        json!({"foo": ["bar", "qux", "baz"]}),
        json!([{"op": "remove", "path": "/foo/1"}]),
    );
    assert_eq!(out.unwrap(), json!({"foo": ["bar", "baz"]}));
}

#[test]
fn a5_replace_value() {
    let out = apply(
        json!({"baz": "qux", "foo": "bar"}),
        json!([{"op": "replace", "path": "/baz", "value": "boo"}]),
    );
    assert_eq!(out.unwrap(), json!({"baz": "boo", "foo": "bar"}));
}

#[test]
fn a6_move_value() {
    let out = apply(
        json!({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}),
        json!([{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]),
    );
    assert_eq!(
        out.unwrap(),
        json!({"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}})
    );
}

#[test]
fn a7_move_array_element() {
    let out = apply(
        json!({"foo": ["all", "grass", "cows", "eat"]}),
        json!([{"op": "move", "from": "/foo/1", "path": "/foo/3"}]),
    );
    assert_eq!(
        out.unwrap(),
        json!({"foo": ["all", "cows", "eat", "grass"]})
    );
}

#[test]
fn a8_test_success() {
    let doc = json!({"baz": "qux", "foo": ["a", 2, "c"]});
    let out = apply(
        doc.clone(),
        json!([
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2}
        ]),
    );
    assert_eq!(out.unwrap(), doc);
}

#[test]
fn a9_test_error() {
    let out = apply(
        json!({"baz": "qux"}),
        json!([{"op": "test", "path": "/baz", "value": "bar"}]),
    );
    assert_eq!(reason(out), (0, JsonPatchReason::TestFailed));
}

#[test]
fn a10_add_nested_member() {
    let out = apply(
        json!({"foo": "bar"}),
        json!([{"op": "add", "path": "/child", "value": {"grandchild": {}}}]),
    );
    assert_eq!(
        out.unwrap(),
        json!({"foo": "bar", "child": {"grandchild": {}}})
    );
}

#[test]
fn a11_unrecognized_members_are_ignored() {
    let out = apply(
        json!({"foo": "bar"}),
        json!([{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}]),
    );
    assert_eq!(out.unwrap(), json!({"foo": "bar", "baz": "qux"}));
}

#[test]
fn a12_add_to_nonexistent_target() {
    let out = apply(
        json!({"foo": "bar"}),
        json!([{"op": "add", "path": "/baz/bat", "value": "qux"}]),
    );
    assert_eq!(reason(out), (0, JsonPatchReason::PathNotFound));
}

#[test]
fn a14_escape_ordering() {
    let out = apply(
        json!({"/": 9, "~1": 10}),
        json!([{"op": "test", "path": "/~01", "value": 10}]),
    );
    assert_eq!(out.unwrap(), json!({"/": 9, "~1": 10}));
    let out = apply(
        json!({"/": 9, "~1": 10}),
        json!([{"op": "remove", "path": "/~1"}]),
    );
    assert_eq!(out.unwrap(), json!({"~1": 10}));
}

#[test]
fn a15_strings_and_numbers_differ() {
    let out = apply(
        json!({"/": 9, "~1": 10}),
        json!([{"op": "test", "path": "/~01", "value": "10"}]),
    );
    assert_eq!(reason(out), (0, JsonPatchReason::TestFailed));
}

#[test]
fn a16_add_array_value_and_end_of_array() {
    let out = apply(
        json!({"foo": ["bar"]}),
        json!([
            {"op": "add", "path": "/foo/-", "value": ["abc", "def"]},
            {"op": "add", "path": "/foo/-", "value": "end"}
        ]),
    );
    assert_eq!(out.unwrap(), json!({"foo": ["bar", ["abc", "def"], "end"]}));
}

#[test]
fn copy_and_replace_whole_document() {
    let out = apply(
        json!({"a": {"b": 1}}),
        json!([
            {"op": "copy", "from": "/a", "path": "/c"},
            {"op": "replace", "path": "/c/b", "value": 2}
        ]),
    )
    .unwrap();
    assert_eq!(out, json!({"a": {"b": 1}, "c": {"b": 2}}));
    let out = apply(
        out,
        json!([{"op": "replace", "path": "", "value": {"z": 0}}]),
    );
    assert_eq!(out.unwrap(), json!({"z": 0}));
}

#[test]
fn error_names_index_op_and_path() {
    let pod = json!({"metadata": {"labels": {"app": "web"}}});
    let err = json_patch(
        &pod,
        &json!([
            {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
            {"op": "remove", "path": "/metadata/labels/x"}
        ]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "op 1 (remove /metadata/labels/x): path not found"
    );
}

#[test]
fn malformed_operations_are_refused() {
    let doc = json!({"a": [1, 2]});
    let cases = [
        (json!([{"path": "/a"}]), JsonPatchReason::Missing("op")),
        (json!([{"op": "add"}]), JsonPatchReason::Missing("path")),
        (
            json!([{"op": "add", "path": "/b"}]),
            JsonPatchReason::Missing("value"),
        ),
        (
            json!([{"op": "move", "path": "/b"}]),
            JsonPatchReason::Missing("from"),
        ),
        (
            json!([{"op": "frobnicate", "path": "/a"}]),
            JsonPatchReason::UnknownOp,
        ),
        (json!(["add"]), JsonPatchReason::NotAnObject),
        (
            json!([{"op": "add", "path": "a", "value": 1}]),
            JsonPatchReason::InvalidPointer("a".to_owned()),
        ),
        (
            json!([{"op": "add", "path": "/~2", "value": 1}]),
            JsonPatchReason::InvalidPointer("/~2".to_owned()),
        ),
        (
            json!([{"op": "remove", "path": ""}]),
            JsonPatchReason::RemoveRoot,
        ),
        (
            json!([{"op": "move", "from": "/a", "path": "/a/0"}]),
            JsonPatchReason::MoveIntoChild("/a".to_owned()),
        ),
        (
            json!([{"op": "copy", "from": "/nope", "path": "/b"}]),
            JsonPatchReason::FromNotFound("/nope".to_owned()),
        ),
        (
            json!([{"op": "add", "path": "/a/0/x", "value": 1}]),
            JsonPatchReason::NotAContainer,
        ),
    ];
    for (patch, expected) in cases {
        assert_eq!(reason(json_patch(&doc, &patch)), (0, expected), "{patch}");
    }
}

#[test]
fn array_indexes_are_strict() {
    let doc = json!({"a": [1, 2]});
    for (op, path) in [
        ("remove", "/a/01"),
        ("remove", "/a/2"),
        ("remove", "/a/-"),
        ("remove", "/a/-1"),
        ("remove", "/a/x"),
        ("add", "/a/3"),
        ("add", "/a/99999999999999999999999"),
    ] {
        let patch = json!([{"op": op, "path": path, "value": 0}]);
        let (index, reason) = reason(json_patch(&doc, &patch));
        assert_eq!(index, 0);
        assert!(
            matches!(reason, JsonPatchReason::BadIndex { len: 2, .. }),
            "{op} {path}: {reason:?}"
        );
    }
    let out = json_patch(&doc, &json!([{"op": "add", "path": "/a/2", "value": 3}]));
    assert_eq!(out.unwrap(), json!({"a": [1, 2, 3]}));
}

#[test]
fn patch_must_be_an_array() {
    assert_eq!(
        json_patch(&json!({}), &json!({"op": "add"})),
        Err(PatchError::JsonPatchNotArray { found: "an object" })
    );
}
