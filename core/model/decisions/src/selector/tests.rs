use super::*;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn req(key: &str, operator: Operator, values: &[&str]) -> Requirement {
    Requirement {
        key: key.into(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn match_labels_need_every_pair() {
    let sel = LabelSelector::from_labels([("app", "bb"), ("tier", "web")]);
    assert!(sel.matches(&labels(&[("app", "bb"), ("tier", "web"), ("x", "y")])));
    assert!(!sel.matches(&labels(&[("app", "bb")])));
    assert!(!sel.matches(&labels(&[("app", "bb"), ("tier", "db")])));
}

#[test]
fn expressions_follow_kubernetes_operators() {
    let l = labels(&[("env", "prod"), ("app", "bb")]);
    assert!(req("env", Operator::In, &["prod", "stage"]).matches(&l));
    assert!(!req("env", Operator::In, &["dev"]).matches(&l));
    assert!(!req("zone", Operator::In, &["a"]).matches(&l));
    assert!(req("env", Operator::NotIn, &["dev"]).matches(&l));
    assert!(
        req("zone", Operator::NotIn, &["a"]).matches(&l),
        "absent label is NotIn"
    );
    assert!(!req("env", Operator::NotIn, &["prod"]).matches(&l));
    assert!(req("app", Operator::Exists, &[]).matches(&l));
    assert!(!req("zone", Operator::Exists, &[]).matches(&l));
    assert!(req("zone", Operator::DoesNotExist, &[]).matches(&l));
    assert!(!req("app", Operator::DoesNotExist, &[]).matches(&l));
}

#[test]
fn invalid_requirements_match_nothing_and_say_why() {
    let l = labels(&[("env", "prod")]);
    let bad_in = req("env", Operator::NotIn, &[]);
    assert!(!bad_in.matches(&l));
    assert!(
        bad_in
            .validate()
            .unwrap_err()
            .to_string()
            .contains("\"env\"")
    );
    let bad_exists = req("env", Operator::Exists, &["prod"]);
    assert!(!bad_exists.matches(&l));
    assert!(bad_exists.validate().is_err());
    assert!(
        "Equals"
            .parse::<Operator>()
            .unwrap_err()
            .to_string()
            .contains("Equals")
    );
    assert_eq!("NotIn".parse::<Operator>().unwrap(), Operator::NotIn);
}

#[test]
fn empty_selector_matches_all_but_never_exports() {
    let l = labels(&[("mirror.linkerd.io/exported", "true")]);
    let empty = LabelSelector::default();
    assert!(empty.matches(&l));
    assert!(!LabelSelector::matches_for_export(Some(&empty), &l));
    assert!(!LabelSelector::matches_for_export(None, &l));
    let sel = LabelSelector::from_labels([("mirror.linkerd.io/exported", "true")]);
    assert!(LabelSelector::matches_for_export(Some(&sel), &l));
}
