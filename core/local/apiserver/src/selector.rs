//! The `labelSelector` and `fieldSelector` query parameters, parsed as the
//! API server parses them, and matched against stored objects.
//!
//! Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`,
//! `k`, `!k`, joined by commas. Field selectors: `path=v`, `path==v`,
//! `path!=v` over the object's fields (`metadata.name`,
//! `metadata.namespace`, `spec.nodeName`, `status.phase`...), joined by commas.

use serde_json::Value;
use strait_decisions::selector::{LabelSelector, Labels, Operator, Requirement};

/// A selector the API server would refuse, naming the part at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {requirement:?}: {reason}")]
pub struct SelectorError {
    /// The requirement at fault.
    pub requirement: String,
    /// Why.
    pub reason: String,
}

/// Parses a `labelSelector` query value; empty selects everything.
pub fn labels(text: &str) -> Result<LabelSelector, SelectorError> {
    let mut selector = LabelSelector::default();
    for part in split_top_level(text) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let fail = |reason: &str| SelectorError {
            requirement: part.to_string(),
            reason: reason.to_string(),
        };
        let requirement = if let Some(key) = part.strip_prefix('!') {
            requirement(key.trim(), Operator::DoesNotExist, Vec::new())
        } else if let Some((key, values)) = split_set(part, " notin ") {
            requirement(key, Operator::NotIn, values.map_err(|r| fail(&r))?)
        } else if let Some((key, values)) = split_set(part, " in ") {
            requirement(key, Operator::In, values.map_err(|r| fail(&r))?)
        } else if let Some((key, value)) = part.split_once("!=") {
            requirement(key.trim(), Operator::NotIn, vec![value.trim().to_string()])
        } else if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
            requirement(key.trim(), Operator::In, vec![value.trim().to_string()])
        } else {
            requirement(part, Operator::Exists, Vec::new())
        };
        check_key(&requirement.key).map_err(|r| fail(&r))?;
        selector.match_expressions.push(requirement);
    }
    Ok(selector)
}

fn requirement(key: &str, operator: Operator, values: Vec<String>) -> Requirement {
    Requirement {
        key: key.to_string(),
        operator,
        values,
    }
}

/// `key in (a,b)` as the key and its values.
fn split_set<'a>(part: &'a str, operator: &str) -> Option<(&'a str, Result<Vec<String>, String>)> {
    let (key, rest) = part.split_once(operator)?;
    let rest = rest.trim();
    let values = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .map(|inner| {
            inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        })
        .ok_or_else(|| {
            format!(
                "expected a parenthesized list of values after {:?}",
                operator.trim()
            )
        });
    Some((key.trim(), values))
}

/// Commas split requirements except inside a value set's parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A label key: an optional DNS prefix and `/`, then a name of at most 63
/// characters of alphanumerics, `-`, `_` and `.`.
fn check_key(key: &str) -> Result<(), String> {
    let name = key.rsplit_once('/').map_or(key, |(_, n)| n);
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid label key {key:?}"))
    }
}

/// Whether `object`'s labels match `selector`.
pub fn labels_match(selector: &LabelSelector, object: &Value) -> bool {
    if selector.is_empty() {
        return true;
    }
    let labels: Labels = object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    selector.matches(&labels)
}

/// One field requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field's path, dotted.
    pub path: String,
    /// The value compared.
    pub value: String,
    /// `!=` rather than `=`.
    pub negated: bool,
}

/// Parses a `fieldSelector` query value; empty selects everything.
pub fn fields(text: &str) -> Result<Vec<FieldRequirement>, SelectorError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (path, value, negated) = if let Some((p, v)) = part.split_once("!=") {
            (p, v, true)
        } else if let Some((p, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            (p, v, false)
        } else {
            return Err(SelectorError {
                requirement: part.to_string(),
                reason: "field selectors need an operator (=, ==, !=)".into(),
            });
        };
        out.push(FieldRequirement {
            path: path.trim().to_string(),
            value: value.trim().to_string(),
            negated,
        });
    }
    Ok(out)
}

/// Whether `object` meets every field requirement; a field the object
/// lacks compares as the empty string.
pub fn fields_match(requirements: &[FieldRequirement], object: &Value) -> bool {
    requirements.iter().all(|r| {
        let mut at = object;
        for step in r.path.split('.') {
            at = &at[step];
        }
        let actual = match at {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        (actual == r.value) != r.negated
    })
}

#[cfg(test)]
mod tests;
