use serde_json::json;

use super::*;

#[test]
fn apply_sets_fields_and_keeps_others() {
    let existing = json!({"spec": {"clusterIP": "10.96.0.7", "ports": [{"port": 80}]}, "metadata": {"labels": {"a": "1"}}});
    let applied = json!({"spec": {"ports": [{"port": 8080}]}, "metadata": {"labels": {"b": "2"}}});
    let out = server_side_apply(&existing, None, &applied);
    assert_eq!(
        out["spec"]["clusterIP"], "10.96.0.7",
        "server-set field kept"
    );
    assert_eq!(
        out["spec"]["ports"],
        json!([{"port": 8080}]),
        "lists replaced whole"
    );
    assert_eq!(
        out["metadata"]["labels"],
        json!({"a": "1", "b": "2"}),
        "other managers' labels kept"
    );
}

#[test]
fn apply_removes_what_the_manager_no_longer_sets() {
    let previous = json!({"metadata": {"labels": {"mine": "x", "also": "y"}}});
    let existing = json!({"metadata": {"labels": {"mine": "x", "also": "y", "theirs": "z"}}});
    let applied = json!({"metadata": {"labels": {"mine": "x"}}});
    let out = server_side_apply(&existing, Some(&previous), &applied);
    assert_eq!(
        out["metadata"]["labels"],
        json!({"mine": "x", "theirs": "z"})
    );
}

#[test]
fn merge_patch_follows_rfc_7386() {
    let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
    merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
    assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
    merge_patch(&mut target, &json!({"c": ["list"]}));
    assert_eq!(target["c"], json!(["list"]));
}
