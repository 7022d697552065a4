use serde_json::json;

use super::*;

fn object(labels: Value) -> Value {
    json!({"metadata": {"name": "bb", "namespace": "mc-demo", "labels": labels}, "status": {"phase": "Running"}})
}

#[test]
fn label_selectors_of_every_form() {
    let o = object(json!({"app": "bb", "tier": "web"}));
    for (text, expected) in [
        ("", true),
        ("app=bb", true),
        ("app==bb", true),
        ("app!=bb", false),
        ("app in (bb,other)", true),
        ("app notin (bb)", false),
        ("app,tier=web", true),
        ("!app", false),
        ("!missing", true),
        ("missing", false),
        ("missing!=x", true),
        ("app in (a, bb),tier", true),
    ] {
        assert_eq!(labels_match(&labels(text).unwrap(), &o), expected, "{text}");
    }
}

#[test]
fn a_broken_label_selector_names_its_requirement() {
    let err = labels("app in bb").unwrap_err();
    assert_eq!(err.requirement, "app in bb");
    assert!(labels("bad key=1").is_err());
    assert!(labels("=x").is_err());
}

#[test]
fn field_selectors_compare_dotted_fields() {
    let o = object(json!({}));
    for (text, expected) in [
        ("metadata.name=bb", true),
        ("metadata.name==bb,metadata.namespace=mc-demo", true),
        ("metadata.name!=bb", false),
        ("status.phase=Running", true),
        ("spec.nodeName=", true),
    ] {
        assert_eq!(fields_match(&fields(text).unwrap(), &o), expected, "{text}");
    }
    assert!(fields("metadata.name").is_err());
}
