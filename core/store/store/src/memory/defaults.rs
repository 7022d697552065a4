//! The defaults the API server fills into objects it stores, for the fields
//! clients read as if they were always set: `kubectl rollout status`
//! refuses a StatefulSet whose `spec.updateStrategy.type` is empty, and
//! the StatefulSet controller reads the policy it was created with.

use serde_json::{Map, Value, json};

use crate::object::StoredKind;

/// Fills the defaults of `kind` into `object` where a field is absent;
/// fields that are set are left as they are.
pub(crate) fn apply(kind: &StoredKind, object: &mut Value) {
    if kind.group == "apps" && kind.kind == "StatefulSet" {
        stateful_set(object);
    }
}

/// A StatefulSet's defaults, as the API server's `apps/v1` defaulting sets
/// them: one replica, ordered Pod management, rolling updates from
/// partition 0, and ten revisions kept.
fn stateful_set(object: &mut Value) {
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    set_absent(spec, "replicas", json!(1));
    set_absent(spec, "podManagementPolicy", json!("OrderedReady"));
    set_absent(spec, "revisionHistoryLimit", json!(10));
    set_absent(spec, "updateStrategy", json!({"type": "RollingUpdate"}));
    if let Some(strategy) = spec
        .get_mut("updateStrategy")
        .and_then(Value::as_object_mut)
    {
        set_absent(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type") == Some(&json!("RollingUpdate")) {
            set_absent(strategy, "rollingUpdate", json!({"partition": 0}));
            if let Some(rolling) = strategy
                .get_mut("rollingUpdate")
                .and_then(Value::as_object_mut)
            {
                set_absent(rolling, "partition", json!(0));
            }
        }
    }
}

fn set_absent(map: &mut Map<String, Value>, field: &str, value: Value) {
    if map.get(field).is_none_or(Value::is_null) {
        map.insert(field.to_string(), value);
    }
}

#[cfg(test)]
mod tests;
