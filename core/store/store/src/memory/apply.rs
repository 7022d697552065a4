//! Apply: the one write path that creates or updates an object, as the API
//! server's server-side apply does, in the steps it takes: name the object,
//! normalize what was applied, check the precondition, merge, validate,
//! stamp the server's fields and publish the change.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Change, KindState, MemoryStore, State, Stored, alloc, define, is_service, kind_state, kinds,
    merge, namespace_exists, schema,
};
use crate::error::StoreError;
use crate::object::{ObjectRef, StoredKind};

/// Metadata the server owns: what a client sends in these is dropped, and
/// the store sets them itself.
const SERVER_FIELDS: [&str; 5] = [
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
];

/// How a write combines with what is stored, as the API server's verbs do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Write {
    /// Server-side apply: create, or merge with the manager's fields.
    Apply,
    /// Create only: an existing object is `AlreadyExists`.
    Create,
    /// Replace an existing object whole (PUT), keeping its status and the
    /// server's fields.
    Update,
    /// Replace the status of an existing object alone (PUT on `/status`).
    Status,
}

impl MemoryStore {
    /// The one write path of apply, for typed, untyped and loaded objects.
    /// `strip_status` is false when loading saved state, which carries status.
    pub(super) fn apply_value(
        &self,
        object: Value,
        manager: &str,
        strip_status: bool,
    ) -> Result<Arc<Value>, StoreError> {
        self.write_value(object, manager, Write::Apply, strip_status)
    }

    /// Every write of a whole object: apply, create, update and status.
    pub(super) fn write_value(
        &self,
        mut object: Value,
        manager: &str,
        mode: Write,
        strip_status: bool,
    ) -> Result<Arc<Value>, StoreError> {
        let status = (mode == Write::Status).then(|| object["status"].clone());
        let (api_version, kind_name) = type_of(&object)?;
        let mut state = self.lock();
        let key_of_kind = (group_of(&api_version), kind_name);
        let kind = resolve_kind(&state, &key_of_kind, &api_version);
        let what = target(&object, kind)?;
        // A resourceVersion in what a client applies is a precondition, as
        // on the API server: the write only goes through against that version.
        let precondition = if strip_status {
            precondition_of(&object)
        } else {
            None
        };
        normalize(&mut object, &what, strip_status);
        if what.kind.namespaced && !namespace_exists(&state, &what.namespace) {
            return Err(StoreError::NotFound {
                what: format!("namespaces {:?}", what.namespace),
            });
        }
        let revision = state.revision + 1;
        let State {
            kinds,
            cluster_ips,
            definitions,
            ..
        } = &mut *state;
        let ks = kind_state(kinds, &what.kind);
        let key = (what.namespace.clone(), what.name.clone());
        let existing = ks.objects.get(&key);
        if let Some(wanted) = &precondition {
            check_precondition(wanted, existing, &what)?;
        }
        let previous = existing.map(|e| e.object.clone());
        let mut next = match (mode, existing) {
            (Write::Apply, Some(existing)) => {
                merge::server_side_apply(&existing.object, existing.applied.get(manager), &object)
            }
            (Write::Create, Some(_)) => {
                return Err(StoreError::AlreadyExists {
                    what: what.to_string(),
                });
            }
            (Write::Update | Write::Status, None) => {
                return Err(StoreError::NotFound {
                    what: what.to_string(),
                });
            }
            (Write::Update, Some(existing)) => replaced(&existing.object, object.clone()),
            (Write::Status, Some(existing)) => {
                let mut next = (*existing.object).clone();
                if let Some(map) = next.as_object_mut() {
                    map.insert("status".into(), status.unwrap_or(Value::Null));
                }
                next
            }
            (Write::Apply | Write::Create, None) => object.clone(),
        };
        if let Some(definition) = definitions.get(&key_of_kind) {
            check_schema(definition, &api_version, &next, &what)?;
        }
        let defines = if is_definition(&what.kind) {
            let parsed = schema::Definition::from_crd(&next).map_err(|e| StoreError::Invalid {
                what: what.to_string(),
                reason: e.to_string(),
            })?;
            Some(parsed)
        } else {
            None
        };
        if is_service(&what.kind) {
            assign_cluster_ip(&mut next, previous.as_deref(), cluster_ips, &what)?;
        }
        super::defaults::apply(&what.kind, &mut next);
        let applied = (mode == Write::Apply).then_some(object);
        if let Some(previous) = &previous
            && **previous == next
        {
            if let (Some(stored), Some(applied)) = (ks.objects.get_mut(&key), applied) {
                stored.applied.insert(manager.to_string(), applied);
            }
            return Ok(previous.clone());
        }
        stamp(&mut next, previous.as_deref(), revision);
        let next = Arc::new(next);
        publish(ks, key, manager, applied, previous, next.clone(), revision);
        state.revision = revision;
        if let Some(parsed) = defines {
            define(&mut state, parsed);
        }
        Ok(next)
    }
}

/// What an update (PUT) stores: the object sent, with the status and the
/// server's metadata of the one it replaces, as the API server keeps them.
fn replaced(existing: &Value, mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut()
        && let Some(status) = existing.get("status")
    {
        map.insert("status".into(), status.clone());
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for kept in ["uid", "creationTimestamp", "generation"] {
            if let Some(value) = existing["metadata"].get(kept) {
                meta.insert(kept.into(), value.clone());
            }
        }
    }
    object
}

/// The `apiVersion` and `kind` an object declares: without both there is no
/// telling what it is, so the write is refused before the store is locked.
fn type_of(object: &Value) -> Result<(String, String), StoreError> {
    let api_version = object["apiVersion"].as_str().unwrap_or("").to_string();
    let kind_name = object["kind"].as_str().unwrap_or("").to_string();
    if api_version.is_empty() || kind_name.is_empty() {
        return Err(StoreError::Invalid {
            what: "object".into(),
            reason: "apiVersion and kind are required".into(),
        });
    }
    Ok((api_version, kind_name))
}

/// The kind an object is stored as: the one already in use, else the one a
/// registered definition gives (its plural and scope), else the built-in
/// table's guess.
fn resolve_kind(state: &State, key_of_kind: &(String, String), api_version: &str) -> StoredKind {
    state
        .kinds
        .get(key_of_kind)
        .map(|ks| ks.kind.clone())
        .or_else(|| state.definitions.get(key_of_kind).map(|d| d.kind.clone()))
        .unwrap_or_else(|| kinds::kind_of(api_version, &key_of_kind.1))
}

/// The object named as it will be stored: a namespaced object without a
/// namespace goes to `default`, as `kubectl apply` puts it there.
fn target(object: &Value, kind: StoredKind) -> Result<ObjectRef, StoreError> {
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let namespace = if kind.namespaced {
        object["metadata"]["namespace"]
            .as_str()
            .filter(|ns| !ns.is_empty())
            .unwrap_or("default")
            .to_string()
    } else {
        String::new()
    };
    if name.is_empty() {
        return Err(StoreError::Invalid {
            what: format!("{} object", kind.kind),
            reason: "metadata.name is required".into(),
        });
    }
    Ok(ObjectRef {
        kind,
        namespace,
        name,
    })
}

/// The resourceVersion a client applied, if it gave one.
fn precondition_of(object: &Value) -> Option<String> {
    object["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
        .map(str::to_string)
}

/// Puts the namespace the object is stored under into its metadata and,
/// for what a client applies, drops the fields only the server sets (and
/// the status, which only the status subresource writes), so that they
/// never count as the client's applied configuration.
fn normalize(object: &mut Value, what: &ObjectRef, strip_status: bool) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if what.kind.namespaced {
            meta.insert("namespace".into(), Value::String(what.namespace.clone()));
        } else {
            meta.remove("namespace");
        }
        if strip_status {
            for server_field in SERVER_FIELDS {
                meta.remove(server_field);
            }
        }
    }
    if strip_status && let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
}

/// Refuses the write when the object changed since the version the client
/// applied against; a precondition on an object that does not exist yet
/// holds, as there is nothing to have changed.
fn check_precondition(
    wanted: &str,
    existing: Option<&Stored>,
    what: &ObjectRef,
) -> Result<(), StoreError> {
    let Some(existing) = existing else {
        return Ok(());
    };
    let current = existing.object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("");
    if current == wanted {
        return Ok(());
    }
    Err(StoreError::Conflict {
        what: what.to_string(),
        reason: format!(
            "the object has been modified (resourceVersion {wanted} was applied, \
             the current one is {current}); please apply your changes to the \
             latest version and try again"
        ),
    })
}

/// Sets the fields the server owns on a written object: the new
/// resourceVersion, a generation that moves only when the spec does, and,
/// for a new object, its uid and creation time.
fn stamp(next: &mut Value, previous: Option<&Value>, revision: u64) {
    let generation = match previous {
        Some(prev) if prev.get("spec") == next.get("spec") => {
            prev["metadata"]["generation"].as_u64().unwrap_or(1)
        }
        Some(prev) => prev["metadata"]["generation"].as_u64().unwrap_or(1) + 1,
        None => 1,
    };
    let Some(meta) = next.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    meta.insert(
        "resourceVersion".into(),
        Value::String(revision.to_string()),
    );
    meta.insert("generation".into(), json!(generation));
    if previous.is_none() {
        let uid = format!("{:08x}-0000-4000-8000-{revision:012x}", revision);
        meta.entry("uid").or_insert(Value::String(uid));
        meta.entry("creationTimestamp")
            .or_insert(Value::String(strait_duration::timestamp::now()));
    }
}

/// Stores the written object with the configuration `manager` applied (what
/// its next apply merges against) and tells the kind's watchers.
fn publish(
    ks: &mut KindState,
    key: (String, String),
    manager: &str,
    applied_now: Option<Value>,
    previous: Option<Arc<Value>>,
    next: Arc<Value>,
    revision: u64,
) {
    let mut applied = ks
        .objects
        .remove(&key)
        .map(|s| s.applied)
        .unwrap_or_default();
    if let Some(applied_now) = applied_now {
        applied.insert(manager.to_string(), applied_now);
    }
    ks.objects.insert(
        key,
        Stored {
            object: next.clone(),
            applied,
        },
    );
    ks.record(Change {
        revision,
        previous,
        current: next,
        deleted: false,
    });
}

/// Refuses `object` when it breaks the schema `definition` gives the
/// version `api_version`, naming the object as the API server does
/// (`MeshTLSAuthentication.policy.linkerd.io "nobody"`).
fn check_schema(
    definition: &schema::Definition,
    api_version: &str,
    object: &Value,
    what: &ObjectRef,
) -> Result<(), StoreError> {
    let causes = definition
        .check(api_version, object)
        .map_err(|e| StoreError::Invalid {
            what: what.to_string(),
            reason: e.to_string(),
        })?;
    if causes.is_empty() {
        return Ok(());
    }
    let kind = &what.kind;
    let qualified = if kind.group.is_empty() {
        kind.kind.clone()
    } else {
        format!("{}.{}", kind.kind, kind.group)
    };
    Err(StoreError::Rejected {
        what: format!("{qualified} {:?}", what.name),
        causes,
    })
}

fn is_definition(kind: &StoredKind) -> bool {
    kind.group == "apiextensions.k8s.io" && kind.kind == "CustomResourceDefinition"
}

fn group_of(api_version: &str) -> String {
    api_version
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or("")
        .to_string()
}

/// Gives a new Service a ClusterIP (unless headless or ExternalName) and keeps
/// the one it has across updates, as the API server does.
fn assign_cluster_ip(
    next: &mut Value,
    previous: Option<&Value>,
    ips: &mut alloc::ClusterIps,
    what: &ObjectRef,
) -> Result<(), StoreError> {
    let Some(spec) = next.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if spec.get("type").and_then(Value::as_str) == Some("ExternalName") {
        return Ok(());
    }
    let kept = previous
        .and_then(|p| p["spec"]["clusterIP"].as_str())
        .map(str::to_string);
    let ip =
        match spec
            .get("clusterIP")
            .and_then(Value::as_str)
            .filter(|ip| !ip.is_empty())
        {
            Some(ip) => {
                if let Some(kept) = kept.as_deref().filter(|k| *k != ip) {
                    return Err(StoreError::Invalid {
                        what: what.to_string(),
                        reason: format!(
                            "spec.clusterIP: field is immutable (is {kept}, requested {ip})"
                        ),
                    });
                }
                if ip != "None" {
                    ips.reserve(ip);
                }
                ip.to_string()
            }
            None => match kept {
                Some(kept) => kept,
                None => ips.allocate().map(|ip| ip.to_string()).ok_or_else(|| {
                    StoreError::Unavailable {
                        reason: "the service IP range is exhausted".into(),
                    }
                })?,
            },
        };
    spec.insert("clusterIPs".into(), json!([ip.clone()]));
    spec.insert("clusterIP".into(), Value::String(ip));
    Ok(())
}
