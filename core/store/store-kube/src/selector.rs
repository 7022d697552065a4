//! Label selectors in the query-string form the API server filters by.

use strait_decisions::selector::{LabelSelector, Operator, SelectorError};

/// The `labelSelector` query parameter for `selector`, or `None` when it is
/// empty (the API server then returns everything, which is what the empty
/// selector means).
///
/// The selector is validated first: a requirement the API server would
/// reject (`In` without values, `Exists` with values) is reported here, by
/// key, instead of becoming a list request that fails on every retry.
pub(crate) fn to_query(selector: &LabelSelector) -> Result<Option<String>, SelectorError> {
    selector.validate()?;
    if selector.is_empty() {
        return Ok(None);
    }
    let labels = selector
        .match_labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"));
    let expressions = selector.match_expressions.iter().map(|r| match r.operator {
        Operator::In => format!("{} in ({})", r.key, r.values.join(",")),
        Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
        Operator::Exists => r.key.clone(),
        Operator::DoesNotExist => format!("!{}", r.key),
    });
    Ok(Some(
        labels.chain(expressions).collect::<Vec<_>>().join(","),
    ))
}

#[cfg(test)]
mod tests;
