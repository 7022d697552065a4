//! Kubernetes label selectors (`matchLabels` + `matchExpressions`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Labels or annotations of an object.
pub type Labels = BTreeMap<String, String>;

/// A `matchExpressions` operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// The label is present with one of the values.
    In,
    /// The label is absent, or present with none of the values.
    NotIn,
    /// The label is present, whatever its value.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl FromStr for Operator {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "In" => Ok(Operator::In),
            "NotIn" => Ok(Operator::NotIn),
            "Exists" => Ok(Operator::Exists),
            "DoesNotExist" => Ok(Operator::DoesNotExist),
            other => Err(SelectorError {
                key: String::new(),
                reason: format!(
                    "unknown operator {other:?} (expected In, NotIn, Exists or DoesNotExist)"
                ),
            }),
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
        })
    }
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// How the label is tested.
    pub operator: Operator,
    /// Values for `In` / `NotIn`; must be empty for `Exists` / `DoesNotExist`.
    pub values: Vec<String>,
}

/// Why a selector is invalid, naming the key concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    /// The label key of the faulty requirement (empty when not known).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "invalid label selector: {}", self.reason)
        } else {
            write!(
                f,
                "invalid label selector on key {:?}: {}",
                self.key, self.reason
            )
        }
    }
}

impl std::error::Error for SelectorError {}

impl Requirement {
    /// Checks the value rules the API server enforces, so a bad selector is
    /// reported where it is read instead of matching something by accident.
    pub fn validate(&self) -> Result<(), SelectorError> {
        let err = |reason: &str| SelectorError {
            key: self.key.clone(),
            reason: reason.to_string(),
        };
        if self.key.is_empty() {
            return Err(err("empty key"));
        }
        match self.operator {
            Operator::In | Operator::NotIn if self.values.is_empty() => {
                Err(err("In and NotIn need at least one value"))
            }
            Operator::Exists | Operator::DoesNotExist if !self.values.is_empty() => {
                Err(err("Exists and DoesNotExist take no values"))
            }
            _ => Ok(()),
        }
    }

    /// Whether `labels` satisfy this requirement. An invalid requirement
    /// matches nothing.
    pub fn matches(&self, labels: &Labels) -> bool {
        if self.validate().is_err() {
            return false;
        }
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// A label selector with Kubernetes semantics: all `matchLabels` and all
/// `matchExpressions` must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    /// Labels that must be present with exactly these values.
    pub match_labels: Labels,
    /// Further requirements.
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    /// A selector of `key=value` pairs only.
    pub fn from_labels<I, K, V>(labels: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        LabelSelector {
            match_labels: labels
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            match_expressions: Vec::new(),
        }
    }

    /// Whether the selector has neither labels nor expressions.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Checks every requirement.
    pub fn validate(&self) -> Result<(), SelectorError> {
        self.match_expressions
            .iter()
            .try_for_each(Requirement::validate)
    }

    /// Kubernetes matching: the empty selector matches every object.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// Link matching: an absent or empty selector matches nothing, so a Link
    /// with an unset selector never exports every Service of a cluster.
    pub fn matches_for_export(selector: Option<&LabelSelector>, labels: &Labels) -> bool {
        selector.is_some_and(|s| !s.is_empty() && s.matches(labels))
    }
}

#[cfg(test)]
mod tests;
