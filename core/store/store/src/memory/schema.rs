//! Custom resources checked against the OpenAPI v3 schema of their
//! CustomResourceDefinition, as the API server checks them: a resource the
//! API server would refuse is refused here too, with the API server's
//! message naming every field at fault, so that `strait local` never holds
//! what a real cluster could not.
//!
//! The checks are the structural-schema subset CustomResourceDefinitions
//! use: `type`, `properties`, `required`, `items`, `additionalProperties`,
//! `enum`, `minItems`/`maxItems`, `minLength`/`maxLength`,
//! `minimum`/`maximum` (and their exclusive forms),
//! `minProperties`/`maxProperties`, `allOf`/`oneOf`/`anyOf`/`not`,
//! `nullable`, `x-kubernetes-int-or-string` and
//! `x-kubernetes-preserve-unknown-fields`. A field the schema does not
//! declare is refused, as `kubectl apply` (strict field validation) has the
//! API server do. OpenAPI v3.0 is not JSON Schema: `nullable` admits `null`,
//! and the `x-kubernetes-*` extensions change what a type admits, which is
//! why this is not a JSON Schema validator.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::object::StoredKind;

/// One CustomResourceDefinition as the store uses it: the kind it defines
/// and the schema of each served version.
#[derive(Clone, Debug)]
pub(crate) struct Definition {
    /// The kind, with the plural and scope the definition gives.
    pub(crate) kind: StoredKind,
    /// `openAPIV3Schema` by version name; a served version without a schema
    /// admits anything.
    pub(crate) versions: BTreeMap<String, Value>,
    /// The definition as it was given, for what the API serves from it
    /// (discovery's short names, kubectl's printer columns, OpenAPI).
    pub(crate) source: Value,
}

/// Why a CustomResourceDefinition defines no kind, in the API server's
/// words, naming the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DefinitionError {
    /// A field that must be a non-empty string is not.
    #[error("spec.{0}: Required value")]
    Required(String),
    /// `spec.scope` is neither `Cluster` nor `Namespaced` (none when unset).
    #[error(
        "spec.scope: Unsupported value: {}: supported values: \"Cluster\", \"Namespaced\"",
        .0.as_ref().map_or("null".to_string(), |s| format!("{s:?}"))
    )]
    Scope(Option<String>),
    /// No version is served.
    #[error("spec.versions: Required value: at least one served version")]
    NoServedVersion,
}

/// An object of a kind whose definition does not serve the object's
/// version, as the API server words it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "no matches for kind {kind:?} in version {api_version:?} (served: {})",
    served.join(", ")
)]
pub(crate) struct UnservedVersion {
    /// The kind.
    pub(crate) kind: String,
    /// The object's `apiVersion`.
    pub(crate) api_version: String,
    /// The versions the definition serves.
    pub(crate) served: Vec<String>,
}

impl Definition {
    /// Reads a CustomResourceDefinition (as JSON): its group, kind, plural,
    /// scope and the schema of every served version.
    pub(crate) fn from_crd(crd: &Value) -> Result<Definition, DefinitionError> {
        let spec = &crd["spec"];
        let text = |value: &Value, field: &str| {
            value
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| DefinitionError::Required(field.to_string()))
        };
        let group = text(&spec["group"], "group")?;
        let kind = text(&spec["names"]["kind"], "names.kind")?;
        let plural = text(&spec["names"]["plural"], "names.plural")?;
        let namespaced = match spec["scope"].as_str() {
            Some("Namespaced") => true,
            Some("Cluster") => false,
            other => return Err(DefinitionError::Scope(other.map(str::to_string))),
        };
        let mut versions = BTreeMap::new();
        for (index, version) in spec["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let name = text(&version["name"], &format!("versions[{index}].name"))?;
            if version["served"].as_bool() == Some(false) {
                continue;
            }
            let schema = version["schema"]["openAPIV3Schema"].clone();
            versions.insert(name, schema);
        }
        if versions.is_empty() {
            return Err(DefinitionError::NoServedVersion);
        }
        Ok(Definition {
            kind: StoredKind {
                group,
                kind,
                plural,
                namespaced,
            },
            versions,
            source: crd.clone(),
        })
    }

    /// Every field of `object` at fault under the schema of `api_version`,
    /// in the API server's words; `Err` when the definition does not serve
    /// that version.
    pub(crate) fn check(
        &self,
        api_version: &str,
        object: &Value,
    ) -> Result<Vec<String>, UnservedVersion> {
        let version = api_version.rsplit_once('/').map_or(api_version, |(_, v)| v);
        let Some(schema) = self.versions.get(version) else {
            return Err(UnservedVersion {
                kind: self.kind.kind.clone(),
                api_version: api_version.to_string(),
                served: self.versions.keys().cloned().collect(),
            });
        };
        Ok(validate(schema, object))
    }
}

/// Every violation of `schema` by `object`, one message per field, in the
/// API server's words (`spec.identities: Invalid value: 0: spec.identities
/// in body should have at least 1 items`). `apiVersion`, `kind`,
/// `metadata` and `status` are not checked: the first three are the API
/// server's own, and status is written through its own subresource.
pub(crate) fn validate(schema: &Value, object: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(map) = object.as_object() else {
        out.push(type_error("", "object", object));
        return out;
    };
    let body: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let body = Value::Object(body);
    // An empty schema (no `openAPIV3Schema`) admits anything, as the API
    // server's does.
    if schema.as_object().is_some_and(|s| !s.is_empty()) {
        check(schema, &body, "", true, &mut out);
    }
    out
}

/// The path of a field under `path`.
fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How a path reads in "… in body must …": the root has no name.
fn body(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

/// `path: ` before a message, or nothing at the root.
fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

fn flag(schema: &Map<String, Value>, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// The JSON type of a value, as the API server names it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn type_matches(wanted: &str, value: &Value) -> bool {
    match (wanted, value) {
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => is_integer(n),
        // A type this check does not know admits anything rather than
        // refusing what the API server may accept.
        (other, _) => !matches!(
            other,
            "object" | "array" | "string" | "boolean" | "number" | "integer"
        ),
    }
}

fn type_error(path: &str, wanted: &str, value: &Value) -> String {
    let found = type_name(value);
    format!(
        "{}Invalid value: {found:?}: {} in body must be of type {wanted}: {found:?}",
        at(path),
        body(path)
    )
}

/// A number as the API server prints a bound: `1`, not `1.0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// A value as the API server quotes it in `Invalid value: …`.
fn quoted(value: &Value) -> String {
    match value {
        Value::Object(_) | Value::Array(_) => format!("{:?}", type_name(value)),
        other => other.to_string(),
    }
}

/// Checks `value` at `path` against `schema`, appending every violation.
/// `strict` refuses undeclared fields; it is off inside `allOf`, `oneOf`,
/// `anyOf` and `not`, whose branches only add constraints to the fields the
/// main schema declares.
fn check(schema: &Value, value: &Value, path: &str, strict: bool, out: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if value.is_null() {
        if flag(schema, "nullable") {
            return;
        }
        if let Some(wanted) = schema.get("type").and_then(Value::as_str) {
            out.push(type_error(path, wanted, value));
            return;
        }
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        let admitted = match value {
            Value::String(_) => true,
            Value::Number(n) => is_integer(n),
            _ => false,
        };
        if !admitted {
            out.push(type_error(path, "integer,string", value));
            return;
        }
    } else if let Some(wanted) = schema.get("type").and_then(Value::as_str)
        && !type_matches(wanted, value)
    {
        out.push(type_error(path, wanted, value));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let supported: Vec<String> = allowed.iter().map(Value::to_string).collect();
        out.push(format!(
            "{}Unsupported value: {value}: supported values: {}",
            at(path),
            supported.join(", ")
        ));
    }
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    match value {
        Value::String(text) => {
            let length = text.chars().count() as f64;
            if let Some(min) = bound("minLength").filter(|min| length < *min) {
                out.push(format!(
                    "{}Invalid value: {value}: {} in body should be at least {} chars long",
                    at(path),
                    body(path),
                    number(min)
                ));
            }
            if let Some(max) = bound("maxLength").filter(|max| length > *max) {
                out.push(format!(
                    "{}Too long: may not be longer than {}",
                    at(path),
                    number(max)
                ));
            }
        }
        Value::Number(n) => check_number(schema, n.as_f64().unwrap_or(0.0), value, path, out),
        Value::Array(items) => {
            let count = items.len() as f64;
            if let Some(min) = bound("minItems").filter(|min| count < *min) {
                out.push(format!(
                    "{}Invalid value: {}: {} in body should have at least {} items",
                    at(path),
                    items.len(),
                    body(path),
                    number(min)
                ));
            }
            if let Some(max) = bound("maxItems").filter(|max| count > *max) {
                out.push(format!(
                    "{}Too many: {}: must have at most {} items",
                    at(path),
                    items.len(),
                    number(max)
                ));
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{index}]"), strict, out);
                }
            }
        }
        Value::Object(fields) => check_object(schema, fields, path, strict, out),
        Value::Bool(_) | Value::Null => {}
    }
    check_combinators(schema, value, path, out);
}

fn check_number(
    schema: &Map<String, Value>,
    n: f64,
    value: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    if let Some(min) = bound("minimum") {
        let exclusive = flag(schema, "exclusiveMinimum");
        if n < min || (exclusive && n == min) {
            let relation = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            out.push(format!(
                "{}Invalid value: {value}: {} in body should be {relation} {}",
                at(path),
                body(path),
                number(min)
            ));
        }
    }
    if let Some(max) = bound("maximum") {
        let exclusive = flag(schema, "exclusiveMaximum");
        if n > max || (exclusive && n == max) {
            let relation = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            out.push(format!(
                "{}Invalid value: {value}: {} in body should be {relation} {}",
                at(path),
                body(path),
                number(max)
            ));
        }
    }
}

fn check_object(
    schema: &Map<String, Value>,
    fields: &Map<String, Value>,
    path: &str,
    strict: bool,
    out: &mut Vec<String>,
) {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let nullable = |key: &str| {
        properties
            .get(key)
            .and_then(Value::as_object)
            .is_some_and(|p| flag(p, "nullable"))
    };
    // A null in a field that is not nullable is dropped by the API server
    // before validation, so it counts as absent.
    let present = |key: &str| {
        fields
            .get(key)
            .is_some_and(|v| !v.is_null() || nullable(key))
    };
    let count = fields.len() as f64;
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    if let Some(min) = bound("minProperties").filter(|min| count < *min) {
        out.push(format!(
            "{}Invalid value: {}: {} in body should have at least {} properties",
            at(path),
            fields.len(),
            body(path),
            number(min)
        ));
    }
    if let Some(max) = bound("maxProperties").filter(|max| count > *max) {
        out.push(format!(
            "{}Too many: {}: must have at most {} items",
            at(path),
            fields.len(),
            number(max)
        ));
    }
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !present(required) {
            out.push(format!("{}: Required value", child(path, required)));
        }
    }
    let additional = schema.get("additionalProperties");
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
    for (key, field) in fields {
        let field_path = child(path, key);
        if field.is_null() && !present(key) {
            continue;
        }
        if let Some(property) = properties.get(key) {
            check(property, field, &field_path, strict, out);
            continue;
        }
        match additional {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => out.push(format!("unknown field {field_path:?}")),
            // A null map value that is not nullable is dropped, as a field's is.
            Some(Value::Object(a)) if field.is_null() && !flag(a, "nullable") => {}
            Some(additional @ Value::Object(_)) => {
                check(additional, field, &field_path, strict, out);
            }
            _ if strict && !preserve => out.push(format!("unknown field {field_path:?}")),
            _ => {}
        }
    }
}

/// `allOf`, `oneOf`, `anyOf` and `not`: constraints on the value as a
/// whole, each branch checked without refusing undeclared fields.
fn check_combinators(
    schema: &Map<String, Value>,
    value: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let branches = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_array)
            .map(|b| b.as_slice())
            .unwrap_or_default()
    };
    let errors_of = |branch: &Value| {
        let mut errors = Vec::new();
        check(branch, value, path, false, &mut errors);
        errors
    };
    for branch in branches("allOf") {
        out.extend(errors_of(branch));
    }
    let one_of = branches("oneOf");
    if !one_of.is_empty() {
        let results: Vec<Vec<String>> = one_of.iter().map(errors_of).collect();
        let valid = results.iter().filter(|e| e.is_empty()).count();
        if valid != 1 {
            let found = if valid == 0 {
                "Found none valid".to_string()
            } else {
                format!("Found {valid} valid alternatives")
            };
            out.push(format!(
                "{}Invalid value: {}: {} in body must validate one and only one schema (oneOf). {found}",
                at(path),
                quoted(value),
                body(path)
            ));
            if valid == 0 {
                push_unique(out, results.into_iter().flatten());
            }
        }
    }
    let any_of = branches("anyOf");
    if !any_of.is_empty() {
        let results: Vec<Vec<String>> = any_of.iter().map(errors_of).collect();
        if results.iter().all(|e| !e.is_empty()) {
            out.push(format!(
                "{}Invalid value: {}: {} in body must validate at least one schema (anyOf)",
                at(path),
                quoted(value),
                body(path)
            ));
            push_unique(out, results.into_iter().flatten());
        }
    }
    if let Some(not) = schema.get("not")
        && errors_of(not).is_empty()
    {
        out.push(format!(
            "{}Invalid value: {}: {} in body must not validate the schema (not)",
            at(path),
            quoted(value),
            body(path)
        ));
    }
}

fn push_unique(out: &mut Vec<String>, errors: impl IntoIterator<Item = String>) {
    for error in errors {
        if !out.contains(&error) {
            out.push(error);
        }
    }
}

#[cfg(test)]
mod tests;
