//! The `meta.k8s.io/v1` Table the API server answers `kubectl get` with when
//! it sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! kubectl prints whatever columns the server sends, so the columns here are
//! the API server's own printers' (`-o wide` adds the `priority: 1` ones):
//! [`builtin`] for the built-in kinds strait stores, [`custom`] for custom
//! resources (their CRD's `additionalPrinterColumns`), and Name + Age for
//! the rest. Ages are rendered here, as the server does, with kubectl's
//! [`human_duration`].

mod builtin;
mod custom;

use std::sync::Arc;

use serde_json::{Value, json};
use strait_store::StoredKind;

/// What each row's `object` holds: the `includeObject` query parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object (`includeObject=None`).
    None,
    /// A `PartialObjectMetadata` with the object's metadata: the default,
    /// enough for kubectl to name, label and sort rows.
    #[default]
    Metadata,
    /// The whole object (`includeObject=Object`), which kubectl asks for
    /// when it needs fields beyond the columns.
    Object,
}

impl IncludeObject {
    /// Reads the `includeObject` query value; anything unknown or absent is
    /// the API server's default, `Metadata`.
    pub fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// One column of a table, serialized as a `TableColumnDefinition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header; kubectl prints it upper-cased.
    pub name: String,
    /// OpenAPI type: `string`, `integer`, `number`, `boolean` or `date`.
    pub kind: &'static str,
    /// OpenAPI format; `name` marks the column that names the object.
    pub format: String,
    /// What the column shows.
    pub description: String,
    /// 0 for the default columns, 1 (or more) for `-o wide` only.
    pub priority: i64,
}

impl Column {
    fn new(name: &str, kind: &'static str, description: &str, priority: i64) -> Self {
        Column {
            name: name.to_string(),
            kind,
            format: String::new(),
            description: description.to_string(),
            priority,
        }
    }

    /// The Name column every table starts with.
    fn name() -> Self {
        Column {
            format: "name".into(),
            ..Column::new("Name", "string", NAME_DESCRIPTION, 0)
        }
    }

    /// The Age column of the built-in printers: an already rendered string.
    fn age() -> Self {
        Column::new("Age", "string", CREATED_DESCRIPTION, 0)
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

const CREATED_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// What a table is built from, besides the objects: the kind, its CRD
/// version's `additionalPrinterColumns` (for custom resources), the list's
/// resource version and the time now.
#[derive(Clone, Copy, Debug)]
pub struct TableOptions<'a> {
    /// The `additionalPrinterColumns` array of the served CRD version, if
    /// the kind is a custom resource.
    pub printer_columns: Option<&'a Value>,
    /// What each row's `object` holds.
    pub include_object: IncludeObject,
    /// The list's `metadata.resourceVersion`.
    pub resource_version: &'a str,
    /// Seconds since the Unix epoch, for ages.
    pub now_secs: u64,
}

/// The cells of one row, given the object and the time now.
pub(crate) type Cells = fn(&Value, u64) -> Vec<Value>;

/// The `Table` of `objects` of `kind`, with the columns the API server's
/// printers give that kind and one row per object, in order.
pub fn table(kind: &StoredKind, objects: &[Arc<Value>], options: &TableOptions<'_>) -> Value {
    let (columns, rows) = match builtin::printer(kind) {
        Some((columns, cells)) => (columns, rows_of(objects, options.now_secs, cells)),
        None => custom::table(options.printer_columns, objects, options.now_secs),
    };
    let rows: Vec<Value> = rows
        .into_iter()
        .zip(objects)
        .map(|(cells, object)| json!({"cells": cells, "object": row_object(object, options.include_object)}))
        .collect();
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "Table",
        "metadata": {"resourceVersion": options.resource_version},
        "columnDefinitions": columns.iter().map(Column::to_json).collect::<Vec<_>>(),
        "rows": rows,
    })
}

fn rows_of(objects: &[Arc<Value>], now: u64, cells: Cells) -> Vec<Vec<Value>> {
    objects.iter().map(|object| cells(object, now)).collect()
}

/// A row's `object`, as `includeObject` asks.
fn row_object(object: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "apiVersion": "meta.k8s.io/v1",
            "kind": "PartialObjectMetadata",
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
        IncludeObject::Object => object.clone(),
    }
}

/// An object's `metadata.name`, empty when it has none.
pub(crate) fn name(object: &Value) -> Value {
    Value::from(str_at(object, &["metadata", "name"]))
}

/// The age of an object, from its `metadata.creationTimestamp`.
pub(crate) fn age_of(object: &Value, now: u64) -> Value {
    Value::from(age(object["metadata"]["creationTimestamp"].as_str(), now))
}

/// The string at a path of keys, empty when absent or not a string.
pub(crate) fn str_at<'a>(object: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(object, |value, key| value.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The integer at a path of keys, 0 when absent, as Go's zero value.
pub(crate) fn int_at(object: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(object, |value, key| value.get(key))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The age of an object created at `created` (RFC 3339), as kubectl prints
/// it; `<unknown>` when there is no readable timestamp.
pub fn age(created: Option<&str>, now_secs: u64) -> String {
    match created.and_then(strait_duration::timestamp::parse) {
        Some(created) => human_duration(now_secs.saturating_sub(created)),
        None => "<unknown>".into(),
    }
}

/// kubectl's `HumanDuration`: exact seconds under two minutes, then
/// coarser units with a second unit only while the first is small, so a
/// glance at a column tells recent objects from old ones.
pub fn human_duration(seconds: u64) -> String {
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests;
