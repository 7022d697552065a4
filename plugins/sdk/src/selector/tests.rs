use super::*;

fn labels(pairs: &[(&str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn requirement(key: &str, operator: SelectorOperator, values: &[&str]) -> SelectorRequirement {
    SelectorRequirement {
        key: key.into(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn selector(match_labels: &[(&str, &str)], exprs: Vec<SelectorRequirement>) -> LabelSelector {
    LabelSelector {
        match_labels: labels(match_labels),
        match_expressions: exprs,
    }
}

#[test]
fn lookup_finds_values_by_exact_key() {
    let l = labels(&[("app", "web"), ("tier", "front")]);
    assert_eq!(get(&l, "app"), Some("web"));
    assert_eq!(get(&l, "App"), None);
    assert!(has(&l, "tier", "front"));
    assert!(!has(&l, "tier", "back"));
}

#[test]
fn empty_selector_matches_everything_but_not_for_a_link() {
    let empty = selector(&[], vec![]);
    assert!(matches(&empty, &[]));
    assert!(matches(&empty, &labels(&[("a", "b")])));
    assert!(!matches_for_link(Some(&empty), &labels(&[("a", "b")])));
    assert!(!matches_for_link(None, &labels(&[("a", "b")])));
}

#[test]
fn match_labels_all_must_equal() {
    let s = selector(&[("app", "web"), ("tier", "front")], vec![]);
    assert!(matches(
        &s,
        &labels(&[("app", "web"), ("tier", "front"), ("x", "y")])
    ));
    assert!(!matches(&s, &labels(&[("app", "web")])));
    assert!(!matches(&s, &labels(&[("app", "web"), ("tier", "back")])));
    assert!(matches_for_link(
        Some(&s),
        &labels(&[("app", "web"), ("tier", "front")])
    ));
}

#[test]
fn expressions_follow_kubernetes_semantics() {
    let l = labels(&[("env", "prod")]);
    let cases = [
        (
            requirement("env", SelectorOperator::In, &["prod", "qa"]),
            true,
        ),
        (requirement("env", SelectorOperator::In, &["qa"]), false),
        (requirement("zone", SelectorOperator::In, &["a"]), false),
        (requirement("env", SelectorOperator::NotIn, &["qa"]), true),
        (
            requirement("env", SelectorOperator::NotIn, &["prod"]),
            false,
        ),
        (requirement("zone", SelectorOperator::NotIn, &["a"]), true),
        (requirement("env", SelectorOperator::Exists, &[]), true),
        (requirement("zone", SelectorOperator::Exists, &[]), false),
        (
            requirement("env", SelectorOperator::DoesNotExist, &[]),
            false,
        ),
        (
            requirement("zone", SelectorOperator::DoesNotExist, &[]),
            true,
        ),
    ];
    for (req, expected) in cases {
        assert_eq!(
            matches(&selector(&[], vec![req.clone()]), &l),
            expected,
            "{} {:?} {:?}",
            req.key,
            req.operator,
            req.values
        );
    }
}

#[test]
fn labels_and_expressions_combine_with_and() {
    let s = selector(
        &[("app", "web")],
        vec![requirement("env", SelectorOperator::NotIn, &["dev"])],
    );
    assert!(matches(&s, &labels(&[("app", "web"), ("env", "prod")])));
    assert!(!matches(&s, &labels(&[("app", "web"), ("env", "dev")])));
    assert!(!matches(&s, &labels(&[("app", "api"), ("env", "prod")])));
}
