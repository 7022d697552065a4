//! Reading a YAML tree field by field, so every error names the case and the
//! field path (`request.headers.x-user[1]`) it is about.

use serde_norway::{Mapping, Value};

use crate::{CasesError, FieldFault};

/// Where in the cases file a value sits: which case, and the field path.
#[derive(Clone)]
pub(crate) struct At<'c> {
    pub(crate) case: &'c str,
    pub(crate) path: String,
}

impl<'c> At<'c> {
    pub(crate) fn field(&self, name: &str) -> At<'c> {
        At {
            case: self.case,
            path: if self.path.is_empty() {
                name.to_string()
            } else {
                format!("{}.{name}", self.path)
            },
        }
    }

    pub(crate) fn index(&self, i: usize) -> At<'c> {
        At {
            case: self.case,
            path: format!("{}[{i}]", self.path),
        }
    }

    pub(crate) fn error(&self, reason: FieldFault) -> CasesError {
        CasesError::Field {
            case: self.case.to_string(),
            field: self.path.clone(),
            reason,
        }
    }

    /// `expected X, found <what value is>`.
    pub(crate) fn expected(&self, expected: &'static str, value: &Value) -> CasesError {
        self.error(FieldFault::Expected {
            expected,
            found: describe(value),
        })
    }
}

/// What a YAML value is, for "expected X, found Y" messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A mapping whose fields are taken one by one; [`Fields::finish`] refuses
/// the ones nobody took, so a misspelt field is an error, not a default.
pub(crate) struct Fields<'v, 'c> {
    map: &'v Mapping,
    at: At<'c>,
    allowed: Vec<&'static str>,
}

impl<'v, 'c> Fields<'v, 'c> {
    pub(crate) fn new(value: &'v Value, at: At<'c>) -> Result<Self, CasesError> {
        match value {
            Value::Mapping(map) => Ok(Fields {
                map,
                at,
                allowed: Vec::new(),
            }),
            other => Err(at.expected("a mapping", other)),
        }
    }

    pub(crate) fn at(&self, name: &str) -> At<'c> {
        self.at.field(name)
    }

    /// The field's value, if present and not null.
    pub(crate) fn get(&mut self, name: &'static str) -> Option<&'v Value> {
        self.allowed.push(name);
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.get(name).is_some()
    }

    pub(crate) fn required(&mut self, name: &'static str) -> Result<&'v Value, CasesError> {
        self.get(name)
            .ok_or_else(|| self.at(name).error(FieldFault::Missing))
    }

    pub(crate) fn string(&mut self, name: &'static str) -> Result<Option<String>, CasesError> {
        let at = self.at(name);
        self.get(name).map(|v| string(v, &at)).transpose()
    }

    pub(crate) fn required_string(&mut self, name: &'static str) -> Result<String, CasesError> {
        let at = self.at(name);
        string(self.required(name)?, &at)
    }

    pub(crate) fn bool(&mut self, name: &'static str) -> Result<Option<bool>, CasesError> {
        let at = self.at(name);
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(at.expected("true or false", other)),
        }
    }

    pub(crate) fn finish(self) -> Result<(), CasesError> {
        for key in self.map.keys() {
            let name = match key {
                Value::String(s) => s.as_str(),
                other => {
                    return Err(self.at.error(FieldFault::KeyNotAName(describe(other))));
                }
            };
            if !self.allowed.contains(&name) {
                return Err(self
                    .at(name)
                    .error(FieldFault::UnknownField(self.allowed.clone())));
            }
        }
        Ok(())
    }
}

/// A string; numbers and booleans are refused rather than converted, since
/// YAML turns `on` or `1.0` into them behind the writer's back.
pub(crate) fn string(value: &Value, at: &At<'_>) -> Result<String, CasesError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(at.error(FieldFault::NotAString(describe(other)))),
    }
}

/// A list; a missing value is the empty list.
pub(crate) fn list<'v>(value: Option<&'v Value>, at: &At<'_>) -> Result<&'v [Value], CasesError> {
    match value {
        None => Ok(&[]),
        Some(Value::Sequence(items)) => Ok(items),
        Some(other) => Err(at.expected("a list", other)),
    }
}

/// A list of strings.
pub(crate) fn strings(value: Option<&Value>, at: &At<'_>) -> Result<Vec<String>, CasesError> {
    list(value, at)?
        .iter()
        .enumerate()
        .map(|(i, v)| string(v, &at.index(i)))
        .collect()
}

/// A mapping of strings to strings (labels, annotations), in key order.
pub(crate) fn string_map(
    value: Option<&Value>,
    at: &At<'_>,
) -> Result<Vec<(String, String)>, CasesError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Mapping(map)) => map
            .iter()
            .map(|(k, v)| {
                let key = string(k, at)?;
                let value = string(v, &at.field(&key))?;
                Ok((key, value))
            })
            .collect(),
        Some(other) => Err(at.expected("a mapping", other)),
    }
}

/// An unsigned integer that fits `u16` (ports).
pub(crate) fn port(value: &Value, at: &At<'_>) -> Result<u16, CasesError> {
    value
        .as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| at.error(FieldFault::Port(show(value))))
}

/// A short rendering of a value for messages.
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => describe(other).to_string(),
    }
}
