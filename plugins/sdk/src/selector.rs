//! Kubernetes label selectors and label/annotation lookup over the export
//! world's types.

use crate::export::{
    Federation, Label, LabelSelector, Link, RemoteService, SelectorOperator, SelectorRequirement,
};

/// The value of `key` in a Service's labels or annotations.
pub fn get<'a>(labels: &'a [Label], key: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|label| label.key == key)
        .map(|label| label.value.as_str())
}

/// Whether `labels` has `key` set to exactly `value`.
pub fn has(labels: &[Label], key: &str, value: &str) -> bool {
    get(labels, key) == Some(value)
}

/// Kubernetes semantics: every `matchLabels` entry equals, and every
/// `matchExpressions` requirement holds. The empty selector matches every
/// Service (unlike a Link's selectors, which Linkerd reads as matching none
/// when empty; see [`matches_for_link`]).
pub fn matches(selector: &LabelSelector, labels: &[Label]) -> bool {
    selector
        .match_labels
        .iter()
        .all(|wanted| has(labels, &wanted.key, &wanted.value))
        && selector
            .match_expressions
            .iter()
            .all(|requirement| requirement_holds(requirement, labels))
}

/// A Link's selector as Linkerd reads it: absent or empty matches nothing.
pub fn matches_for_link(selector: Option<&LabelSelector>, labels: &[Label]) -> bool {
    match selector {
        Some(s) if !s.match_labels.is_empty() || !s.match_expressions.is_empty() => {
            matches(s, labels)
        }
        _ => false,
    }
}

/// Linkerd's federated rule: a Service matching the Link's
/// `federatedServiceSelector` (absent or empty matches nothing) joins, unless
/// it is headless.
pub fn federated_by_link(service: &RemoteService, link: &Link) -> Federation {
    if !matches_for_link(link.federated_selector.as_ref(), &service.labels) {
        return Federation::NotFederated(format!(
            "service {}/{} does not match the federated service selector of link {}",
            service.namespace, service.name, link.name
        ));
    }
    if service.headless {
        return Federation::NotFederated(format!(
            "service {}/{} is headless and cannot join a federated service",
            service.namespace, service.name
        ));
    }
    Federation::Federated(crate::no_extras())
}

/// One `matchExpressions` entry. `In` with no values matches nothing and
/// `NotIn` with no values matches everything, as the API server would
/// evaluate them were it to accept them.
pub fn requirement_holds(requirement: &SelectorRequirement, labels: &[Label]) -> bool {
    let value = get(labels, &requirement.key);
    match requirement.operator {
        SelectorOperator::In => value.is_some_and(|v| requirement.values.iter().any(|w| w == v)),
        SelectorOperator::NotIn => value.is_none_or(|v| requirement.values.iter().all(|w| w != v)),
        SelectorOperator::Exists => value.is_some(),
        SelectorOperator::DoesNotExist => value.is_none(),
    }
}

#[cfg(test)]
mod tests;
