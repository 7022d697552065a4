//! Reading a `/metrics` page: Prometheus text format 0.0.4 and OpenMetrics
//! (what `prometheus-client` writes), into flat samples.

use std::collections::BTreeMap;

/// One sample of a scrape: the series' full name (with `_total`,
/// `_bucket`, `_sum` or `_count` as written), its labels and its value.
/// Labels are sorted, so two scrapes of one series compare equal whatever
/// order the proxy wrote them in.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series name as written, e.g. `response_total`.
    pub name: String,
    /// The labels, by name.
    pub labels: BTreeMap<String, String>,
    /// The value (`+Inf`, `-Inf` and `NaN` included).
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, or `""` when absent, as PromQL treats a
    /// missing label.
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map(String::as_str).unwrap_or("")
    }
}

/// A line of a `/metrics` page that is not a sample, a comment or blank.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("metrics line {line}: {fault}")]
pub struct ParseError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    #[source]
    pub fault: LineFault,
}

/// What is wrong with a line of a `/metrics` page, naming the part at
/// fault (the metric, the label, the value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineFault {
    /// A name with nothing after it.
    #[error("no value after {0:?}")]
    NoValueAfter(String),
    /// A metric name Prometheus would refuse.
    #[error("invalid metric name {0:?}")]
    MetricName(String),
    /// A metric (with labels) but no value.
    #[error("no value for {0}")]
    NoValue(String),
    /// A value that is no number.
    #[error("invalid value {0:?}")]
    Value(String),
    /// Something after the value that is neither a timestamp nor an exemplar.
    #[error("unexpected {0:?} after the value")]
    AfterValue(String),
    /// A label with no `=`.
    #[error("label without '='")]
    LabelWithoutEquals,
    /// A label name Prometheus would refuse.
    #[error("invalid label name {0:?}")]
    LabelName(String),
    /// A label value that does not start with `"`.
    #[error("value of label {0} is not quoted")]
    Unquoted(String),
    /// A label value whose closing `"` is missing.
    #[error("unterminated value of label {0}")]
    Unterminated(String),
    /// A label followed by neither `,` nor `}`.
    #[error("expected ',' or '}}' after label {0}")]
    AfterLabel(String),
}

/// Reads a `/metrics` page in Prometheus text format 0.0.4 or OpenMetrics.
/// Comments (`# HELP`, `# TYPE`, `# UNIT`, `# EOF`) are skipped, since the
/// series names alone say what `viz` needs; timestamps and OpenMetrics
/// exemplars are dropped. The first malformed line fails the whole page,
/// naming its line number, so a broken exporter is noticed rather than
/// half read.
pub fn parse_metrics(text: &str) -> Result<Vec<Sample>, ParseError> {
    let mut samples = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let sample = parse_line(line).map_err(|fault| ParseError {
            line: index + 1,
            fault,
        })?;
        samples.push(sample);
    }
    Ok(samples)
}

fn parse_line(line: &str) -> Result<Sample, LineFault> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .ok_or_else(|| LineFault::NoValueAfter(line.to_owned()))?;
    let name = &line[..name_end];
    if !valid_name(name) {
        return Err(LineFault::MetricName(name.to_owned()));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let mut fields = rest.split_whitespace();
    let value = fields
        .next()
        .ok_or_else(|| LineFault::NoValue(name.to_owned()))?;
    let value = parse_value(value).ok_or_else(|| LineFault::Value(value.to_owned()))?;
    // An optional timestamp, then an optional OpenMetrics exemplar.
    let mut next = fields.next();
    if next.is_some_and(|timestamp| timestamp != "#" && timestamp.parse::<f64>().is_ok()) {
        next = fields.next();
    }
    if let Some(next) = next
        && next != "#"
    {
        return Err(LineFault::AfterValue(next.to_owned()));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Reads `name="value",...}` and returns what follows the `}`.
fn parse_labels<'a>(
    mut rest: &'a str,
    labels: &mut BTreeMap<String, String>,
) -> Result<&'a str, LineFault> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let eq = rest.find('=').ok_or(LineFault::LabelWithoutEquals)?;
        let name = rest[..eq].trim();
        if !valid_name(name) || name.contains(':') {
            return Err(LineFault::LabelName(name.to_owned()));
        }
        rest = rest[eq + 1..].trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| LineFault::Unquoted(name.to_owned()))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(LineFault::Unterminated(name.to_owned())),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => return Err(LineFault::Unterminated(name.to_owned())),
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.insert(name.to_owned(), value);
        rest = rest[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err(LineFault::AfterLabel(name.to_owned()));
        }
    }
}

/// A sample value, with Prometheus' spellings of the special values.
pub(crate) fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ if text
            .chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') =>
        {
            None
        }
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests;
