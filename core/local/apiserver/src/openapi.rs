//! The OpenAPI v3 documents the API server publishes, in the shapes
//! kubectl v1.32 reads them:
//!
//! - `GET /openapi/v3` ([`root`]): each group-version's path with a hash
//!   of its document, which clients cache by;
//! - `GET /openapi/v3/apis/<group>/<version>` ([`document`]): the kinds'
//!   schemas under `components.schemas` (found by `kubectl explain` and
//!   `kubectl apply` through `x-kubernetes-group-version-kind`), and the
//!   resources' paths, whose PATCH operations tell kubectl the server
//!   validates fields (`fieldValidation`).
//!
//! Built-in kinds get k8s-openapi's schemas ([`builtin`]), custom resources
//! their CRD's `openAPIV3Schema` with `apiVersion`, `kind` and `metadata`
//! added as the API server adds them.

mod builtin;
mod paths;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use strait_store::StoredKind;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Patch};

/// One group-version the server serves, and its resources.
#[derive(Clone, Debug)]
pub struct GroupVersion {
    /// API group; empty for the core group.
    pub group: String,
    /// Version, e.g. `v1alpha3`.
    pub version: String,
    /// The kinds served in this group-version.
    pub resources: Vec<ResourceDoc>,
}

/// A kind in a group-version's document.
#[derive(Clone, Debug)]
pub struct ResourceDoc {
    /// The kind and its resource name.
    pub kind: StoredKind,
    /// The CRD version's `openAPIV3Schema`, for custom resources; built-in
    /// kinds take their schema from k8s-openapi and may leave it `None`.
    pub schema: Option<Value>,
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// `api/v1` for the core group, `apis/<group>/<version>` for the others:
/// the key of a group-version under `/openapi/v3`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The component name of a kind's schema, as the API server names it:
/// `io.k8s.api.core.v1.Service` for the core group, the group's labels
/// reversed otherwise (`io.linkerd.multicluster.v1alpha3.Link`).
pub fn schema_name(group: &str, version: &str, kind: &str) -> String {
    if group.is_empty() {
        return format!("io.k8s.api.core.{version}.{kind}");
    }
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// The `/openapi/v3` discovery document: every group-version's document
/// path with `?hash=`, a digest of the document that changes with it.
pub fn root(gvs: &[GroupVersion]) -> Value {
    let paths: Map<String, Value> = gvs
        .iter()
        .map(|gv| {
            let path = gv_path(&gv.group, &gv.version);
            let url = format!("/openapi/v3/{path}?hash={}", hash(&document(gv)));
            (path, json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// A stable digest of a document: upper-case hex SHA-256 of its JSON.
pub fn hash(document: &Value) -> String {
    let bytes = serde_json::to_vec(document).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// The OpenAPI 3.0 document of one group-version.
pub fn document(gv: &GroupVersion) -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    generator.subschema_for::<ObjectMeta>();
    generator.subschema_for::<Patch>();
    let builtins: Vec<(String, &StoredKind)> = gv
        .resources
        .iter()
        .filter(|r| r.schema.is_none())
        .filter_map(|r| {
            builtin::add(&mut generator, &r.kind.group, &gv.version, &r.kind.kind)
                .map(|n| (n, &r.kind))
        })
        .collect();
    let mut schemas = generator.take_definitions(true);
    builtin::add_patch_strategies(&mut schemas);
    let mut names: Vec<(String, String)> = Vec::new();
    for (name, kind) in builtins {
        if let Some(schema) = schemas.get_mut(&name).and_then(Value::as_object_mut) {
            schema.insert(
                "x-kubernetes-group-version-kind".into(),
                gvk_list(gv, &kind.kind),
            );
        }
        names.push((kind.kind.clone(), name));
    }
    for resource in &gv.resources {
        let Some(schema) = &resource.schema else {
            continue;
        };
        let name = schema_name(&gv.group, &gv.version, &resource.kind.kind);
        schemas.insert(name.clone(), custom_schema(schema, gv, &resource.kind.kind));
        names.push((resource.kind.kind.clone(), name));
    }
    let schema_of = |kind: &str| {
        names
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, n)| n.clone())
    };
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths::paths(gv, &schema_of),
        "components": {"schemas": schemas},
    })
}

fn gvk_list(gv: &GroupVersion, kind: &str) -> Value {
    json!([{"group": gv.group, "version": gv.version, "kind": kind}])
}

/// A CRD's `openAPIV3Schema` as published: `apiVersion`, `kind` and a
/// `metadata` referring to `ObjectMeta` added, and the kind it describes.
fn custom_schema(schema: &Value, gv: &GroupVersion, kind: &str) -> Value {
    let mut schema = match schema {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    schema.entry("type").or_insert_with(|| "object".into());
    let properties = schema.entry("properties").or_insert_with(|| json!({}));
    if !properties.is_object() {
        *properties = json!({});
    }
    if let Some(properties) = properties.as_object_mut() {
        properties.insert("apiVersion".into(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}));
        properties.insert("kind".into(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}));
        properties.insert("metadata".into(), json!({
            "allOf": [{"$ref": format!("#/components/schemas/{OBJECT_META}")}],
            "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        }));
    }
    schema.insert("x-kubernetes-group-version-kind".into(), gvk_list(gv, kind));
    Value::Object(schema)
}

#[cfg(test)]
mod tests;
