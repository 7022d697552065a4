//! Label selectors: arbitrary `matchLabels`, `matchExpressions` (operators
//! given as text, as they arrive from resources) and object labels. Keys and
//! values come from a small alphabet so that selectors and labels collide
//! often enough to exercise matching, not just the "absent" paths.
//!
//! Oracles: Kubernetes' semantics written out independently below; the empty
//! selector matches everything; a Link never exports with an absent or empty
//! selector; an invalid selector matches nothing; `Operator` parses back from
//! its own display.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use strait_decisions::selector::{LabelSelector, Labels, Operator, Requirement};

#[derive(Arbitrary, Debug)]
struct Input {
    match_labels: Vec<(Word, Word)>,
    expressions: Vec<Expression>,
    labels: Vec<(Word, Word)>,
    operator_text: String,
}

#[derive(Arbitrary, Debug)]
struct Expression {
    key: Word,
    /// Either one of the four operators, or arbitrary text.
    operator: OperatorText,
    values: Vec<Word>,
}

#[derive(Arbitrary, Debug)]
enum OperatorText {
    Known(u8),
    Other(String),
}

/// A short key or value: mostly from a tiny alphabet, sometimes anything.
#[derive(Arbitrary, Debug)]
enum Word {
    Small(u8),
    Any(String),
}

impl Word {
    fn text(&self) -> String {
        match self {
            Word::Small(n) => ["", "app", "a", "b", "mirror.linkerd.io/exported", "true"]
                [usize::from(*n) % 6]
                .to_string(),
            Word::Any(s) => s.clone(),
        }
    }
}

fn reference_requirement(r: &Requirement, labels: &Labels) -> bool {
    let valid = !r.key.is_empty()
        && match r.operator {
            Operator::In | Operator::NotIn => !r.values.is_empty(),
            Operator::Exists | Operator::DoesNotExist => r.values.is_empty(),
        };
    if !valid {
        return false;
    }
    let present = labels.get(&r.key);
    match r.operator {
        Operator::In => present.is_some_and(|v| r.values.iter().any(|x| x == v)),
        Operator::NotIn => !present.is_some_and(|v| r.values.iter().any(|x| x == v)),
        Operator::Exists => present.is_some(),
        Operator::DoesNotExist => present.is_none(),
    }
}

fuzz_target!(|input: Input| {
    // Operators as text: never a panic, and a parsed one round-trips.
    if let Ok(op) = input.operator_text.parse::<Operator>() {
        assert_eq!(op.to_string(), input.operator_text);
    }

    let mut expressions = Vec::new();
    for e in &input.expressions {
        let text = match &e.operator {
            OperatorText::Known(n) => {
                ["In", "NotIn", "Exists", "DoesNotExist"][usize::from(*n) % 4].to_string()
            }
            OperatorText::Other(s) => s.clone(),
        };
        match text.parse::<Operator>() {
            Ok(operator) => expressions.push(Requirement {
                key: e.key.text(),
                operator,
                values: e.values.iter().map(Word::text).collect(),
            }),
            Err(err) => {
                assert!(err.to_string().contains("unknown operator"));
            }
        }
    }

    let selector = LabelSelector {
        match_labels: input
            .match_labels
            .iter()
            .map(|(k, v)| (k.text(), v.text()))
            .collect(),
        match_expressions: expressions,
    };
    let labels: Labels = input
        .labels
        .iter()
        .map(|(k, v)| (k.text(), v.text()))
        .collect();

    let matched = selector.matches(&labels);
    let expected = selector
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
        && selector
            .match_expressions
            .iter()
            .all(|r| reference_requirement(r, &labels));
    assert_eq!(
        matched, expected,
        "selector {selector:?} on labels {labels:?}"
    );

    for r in &selector.match_expressions {
        assert_eq!(r.matches(&labels), reference_requirement(r, &labels));
    }

    match selector.validate() {
        Ok(()) => {}
        Err(err) => {
            assert!(!matched, "an invalid selector matched: {err}");
            assert!(!err.to_string().is_empty());
        }
    }

    if selector.is_empty() {
        assert!(matched, "the empty selector matches everything");
    }
    assert!(!LabelSelector::matches_for_export(None, &labels));
    assert_eq!(
        LabelSelector::matches_for_export(Some(&selector), &labels),
        !selector.is_empty() && matched
    );
    assert!(LabelSelector::default().matches(&labels));
    assert!(!LabelSelector::matches_for_export(
        Some(&LabelSelector::default()),
        &labels
    ));
});
