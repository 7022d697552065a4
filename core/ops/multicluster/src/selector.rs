//! Label selectors as flags (`mirror.linkerd.io/exported=true`) and as the
//! Link carries them, and matching Services against them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use strait_decisions::selector as decisions;

/// A selector flag that does not parse, naming the term at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A set-based or otherwise unsupported term.
    #[error("selector term {term:?}: only key=value, key!=value, key and !key are supported")]
    Unsupported {
        /// The term.
        term: String,
    },
    /// `=value` without a key.
    #[error("selector term {term:?} has no key")]
    NoKey {
        /// The term.
        term: String,
    },
}

/// Parses kubectl's selector syntax: comma-separated `key=value`,
/// `key==value`, `key!=value`, `key` (exists) and `!key` (does not exist).
/// Set-based forms (`key in (a,b)`) are not supported.
pub fn parse(text: &str) -> Result<LabelSelector, SelectorError> {
    let mut labels = BTreeMap::new();
    let mut expressions = Vec::new();
    for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let requirement =
            |key: &str, operator: &str, values: Option<Vec<String>>| LabelSelectorRequirement {
                key: key.trim().to_string(),
                operator: operator.to_string(),
                values,
            };
        if term.contains('(') || term.contains(' ') {
            return Err(SelectorError::Unsupported {
                term: term.to_string(),
            });
        }
        if let Some((key, value)) = term.split_once("!=") {
            expressions.push(requirement(key, "NotIn", Some(vec![value.to_string()])));
        } else if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
            if key.is_empty() {
                return Err(SelectorError::NoKey {
                    term: term.to_string(),
                });
            }
            labels.insert(key.to_string(), value.to_string());
        } else if let Some(key) = term.strip_prefix('!') {
            expressions.push(requirement(key, "DoesNotExist", None));
        } else {
            expressions.push(requirement(term, "Exists", None));
        }
    }
    Ok(LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        match_expressions: (!expressions.is_empty()).then_some(expressions),
    })
}

/// Whether `labels` match `selector` for export: a missing or empty
/// selector matches nothing, as in Linkerd; a malformed one matches nothing.
pub fn selects(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = selector else {
        return false;
    };
    let mut converted =
        decisions::LabelSelector::from_labels(selector.match_labels.clone().unwrap_or_default());
    for expression in selector.match_expressions.iter().flatten() {
        let Ok(operator) = expression.operator.parse() else {
            return false;
        };
        converted.match_expressions.push(decisions::Requirement {
            key: expression.key.clone(),
            operator,
            values: expression.values.clone().unwrap_or_default(),
        });
    }
    decisions::LabelSelector::matches_for_export(Some(&converted), labels)
}

#[cfg(test)]
mod tests;
