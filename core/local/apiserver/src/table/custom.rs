//! Tables of custom resources, as the apiextensions server builds them: a
//! Name column, then the served version's `additionalPrinterColumns`, or an
//! Age column when the CRD defines none. Cells follow the column's type
//! (`integer`, `number`, `boolean`, `string`, `date` as an age); a path
//! that finds nothing leaves the cell null, which kubectl prints as
//! `<none>`.

use std::sync::Arc;

use super::{Column, age, name, str_at};
use serde_json::Value;

/// One printer column: the definition and the JSONPath its cells read.
struct PrinterColumn {
    column: Column,
    path: String,
}

/// The columns and rows of custom resources (and of kinds without a
/// printer, which get Name and Age).
pub(super) fn table(
    printer_columns: Option<&Value>,
    objects: &[Arc<Value>],
    now: u64,
) -> (Vec<Column>, Vec<Vec<Value>>) {
    let mut columns: Vec<PrinterColumn> = printer_columns
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(printer_column)
        .collect();
    if columns.is_empty() {
        columns.push(PrinterColumn {
            column: Column::new("Age", "date", super::CREATED_DESCRIPTION, 0),
            path: ".metadata.creationTimestamp".into(),
        });
    }
    let rows = objects
        .iter()
        .map(|object| {
            std::iter::once(name(object))
                .chain(columns.iter().map(|c| cell(object, c, now)))
                .collect()
        })
        .collect();
    let definitions = std::iter::once(Column::name())
        .chain(columns.into_iter().map(|c| c.column))
        .collect();
    (definitions, rows)
}

/// A column of `additionalPrinterColumns`; `None` without a name or path.
fn printer_column(definition: &Value) -> Option<PrinterColumn> {
    let name = definition["name"].as_str().filter(|n| !n.is_empty())?;
    let path = definition["jsonPath"].as_str().filter(|p| !p.is_empty())?;
    let kind = match definition["type"].as_str() {
        Some("integer") => "integer",
        Some("number") => "number",
        Some("boolean") => "boolean",
        Some("date") => "date",
        _ => "string",
    };
    Some(PrinterColumn {
        column: Column {
            format: str_at(definition, &["format"]).to_string(),
            ..Column::new(
                name,
                kind,
                str_at(definition, &["description"]),
                definition["priority"].as_i64().unwrap_or(0),
            )
        },
        path: path.to_string(),
    })
}

/// The cell of one column for one object, typed as the column says.
fn cell(object: &Value, column: &PrinterColumn, now: u64) -> Value {
    let Some(value) = lookup(object, &column.path).filter(|v| !v.is_null()) else {
        return Value::Null;
    };
    match column.column.kind {
        "integer" => value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f as i64))
            .map_or(Value::Null, Value::from),
        "number" => value.as_f64().map_or(Value::Null, Value::from),
        "boolean" => value.as_bool().map_or(Value::Null, Value::from),
        "date" => match value.as_str() {
            Some(text) if strait_duration::timestamp::parse(text).is_some() => {
                Value::from(age(Some(text), now))
            }
            Some(_) => Value::from("<invalid>"),
            None => Value::Null,
        },
        _ => match value {
            Value::String(text) => Value::from(text.as_str()),
            other => Value::from(other.to_string()),
        },
    }
}

/// One step of a JSONPath.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
    /// `[?(@.key=="value")]`: the first item whose `key` is `value`.
    Filter(&'a str, &'a str),
}

/// The value at a simple JSONPath: `.a.b`, `.a[0].b`, `.a[?(@.k=="v")].b`,
/// with or without braces; `None` when it finds nothing or cannot be read.
pub(super) fn lookup<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let steps = parse(path)?;
    steps.iter().try_fold(object, |value, step| match step {
        Step::Field(key) => value.get(*key),
        Step::Index(i) => value.get(*i),
        Step::Filter(key, wanted) => value
            .as_array()?
            .iter()
            .find(|item| item.get(*key).and_then(Value::as_str) == Some(*wanted)),
    })
}

fn parse(path: &str) -> Option<Vec<Step<'_>>> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let (field, tail) = after.split_at(end);
            if field.is_empty() {
                return None;
            }
            steps.push(Step::Field(field));
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let (inside, tail) = after.split_at(end);
            steps.push(bracket(inside)?);
            rest = tail.get(1..)?;
        } else {
            return None;
        }
    }
    Some(steps)
}

/// The inside of `[...]`: an index, a quoted field or an equality filter.
fn bracket(inside: &str) -> Option<Step<'_>> {
    if let Ok(index) = inside.parse() {
        return Some(Step::Index(index));
    }
    if let Some(quoted) = unquote(inside) {
        return Some(Step::Field(quoted));
    }
    let filter = inside.strip_prefix("?(@.")?.strip_suffix(')')?;
    let (key, value) = filter.split_once("==")?;
    Some(Step::Filter(key.trim(), unquote(value.trim())?))
}

fn unquote(text: &str) -> Option<&str> {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
}
