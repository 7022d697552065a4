use strait_decisions::selector::{LabelSelector, Operator, Requirement};

use super::to_query;

fn requirement(key: &str, operator: Operator, values: &[&str]) -> Requirement {
    Requirement {
        key: key.into(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn empty_selector_sends_no_parameter() {
    assert_eq!(to_query(&LabelSelector::default()), Ok(None));
}

#[test]
fn match_labels_become_equalities_in_key_order() {
    let selector =
        LabelSelector::from_labels([("mirror.linkerd.io/exported", "true"), ("app", "bb")]);
    assert_eq!(
        to_query(&selector),
        Ok(Some("app=bb,mirror.linkerd.io/exported=true".into()))
    );
}

#[test]
fn every_operator_is_written_as_the_api_server_parses_it() {
    let selector = LabelSelector {
        match_labels: Default::default(),
        match_expressions: vec![
            requirement("tier", Operator::In, &["web", "api"]),
            requirement("env", Operator::NotIn, &["dev"]),
            requirement("team", Operator::Exists, &[]),
            requirement("legacy", Operator::DoesNotExist, &[]),
        ],
    };
    assert_eq!(
        to_query(&selector),
        Ok(Some(
            "tier in (web,api),env notin (dev),team,!legacy".into()
        ))
    );
}

#[test]
fn labels_come_before_expressions() {
    let mut selector = LabelSelector::from_labels([("app", "bb")]);
    selector
        .match_expressions
        .push(requirement("tier", Operator::In, &["web"]));
    assert_eq!(to_query(&selector), Ok(Some("app=bb,tier in (web)".into())));
}

#[test]
fn invalid_requirements_are_reported_by_key() {
    let mut selector = LabelSelector::default();
    selector
        .match_expressions
        .push(requirement("tier", Operator::In, &[]));
    let err = to_query(&selector).expect_err("In without values is invalid");
    assert_eq!(err.key, "tier");

    let mut selector = LabelSelector::default();
    selector
        .match_expressions
        .push(requirement("team", Operator::Exists, &["x"]));
    let err = to_query(&selector).expect_err("Exists with values is invalid");
    assert_eq!(err.key, "team");
}
