//! The `paths` of a group-version document: each resource's list and item
//! paths with the operations the API server serves. kubectl reads them to
//! decide whether the server validates fields: it looks for the PATCH
//! operation whose `x-kubernetes-group-version-kind` (an object on
//! operations, a list on schemas) is the kind's, and for a `fieldValidation`
//! query parameter on it. Without one kubectl validates on its own and
//! refuses fields it does not know, custom resources' included.

use serde_json::{Map, Value, json};

use super::GroupVersion;
use strait_store::StoredKind;

/// The paths of every resource of `gv`; `schema_of` names each kind's
/// component schema, where the document has one.
pub(super) fn paths(
    gv: &GroupVersion,
    schema_of: &dyn Fn(&str) -> Option<String>,
) -> Map<String, Value> {
    let prefix = format!("/{}", super::gv_path(&gv.group, &gv.version));
    let mut paths = Map::new();
    for resource in &gv.resources {
        let kind = &resource.kind;
        let target = Target {
            gv,
            kind,
            schema: schema_of(&kind.kind),
        };
        let plural = &kind.plural;
        if kind.namespaced {
            let base = format!("{prefix}/namespaces/{{namespace}}/{plural}");
            paths.insert(base.clone(), target.collection(true));
            paths.insert(format!("{base}/{{name}}"), target.item(true));
            paths.insert(format!("{prefix}/{plural}"), target.all_namespaces());
        } else {
            let base = format!("{prefix}/{plural}");
            paths.insert(base.clone(), target.collection(false));
            paths.insert(format!("{base}/{{name}}"), target.item(false));
        }
    }
    paths
}

/// One kind's operations, in its group-version.
struct Target<'a> {
    gv: &'a GroupVersion,
    kind: &'a StoredKind,
    schema: Option<String>,
}

impl Target<'_> {
    /// `namespaces/{namespace}/services`: list, create, delete a collection.
    fn collection(&self, namespaced: bool) -> Value {
        json!({
            "get": self.operation("list", "list", namespaced, false),
            "post": self.operation("create", "post", namespaced, true),
            "delete": self.operation("deleteCollection", "deletecollection", namespaced, false),
            "parameters": path_parameters(namespaced, false),
        })
    }

    /// `namespaces/{namespace}/services/{name}`: read, replace, patch, delete.
    fn item(&self, namespaced: bool) -> Value {
        let mut patch = self.operation("patch", "patch", namespaced, true);
        if let Some(parameters) = patch["parameters"].as_array_mut() {
            parameters.push(query("force", "boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."));
        }
        let mut content = json!({
            "application/apply-patch+yaml": {"schema": patch_schema()},
            "application/json-patch+json": {"schema": patch_schema()},
            "application/merge-patch+json": {"schema": patch_schema()},
        });
        // kubectl's client-side apply sends a strategic merge patch only
        // where the operation offers it: never to custom resources.
        if crate::patch::supports_strategic(&self.kind.group, &self.kind.kind) {
            content["application/strategic-merge-patch+json"] = json!({"schema": patch_schema()});
        }
        patch["requestBody"] = json!({"content": content, "required": true});
        json!({
            "get": self.operation("read", "get", namespaced, false),
            "put": self.operation("replace", "put", namespaced, true),
            "patch": patch,
            "delete": self.operation("delete", "delete", namespaced, false),
            "parameters": path_parameters(namespaced, true),
        })
    }

    /// `services`: the list across every namespace.
    fn all_namespaces(&self) -> Value {
        let mut list = self.operation("list", "list", false, false);
        if let Some(id) = list["operationId"].as_str() {
            list["operationId"] = format!("{id}ForAllNamespaces").into();
        }
        json!({"get": list, "parameters": []})
    }

    /// One operation, tagged with its action and kind; writes take the
    /// object and the `dryRun`, `fieldManager` and `fieldValidation` options.
    fn operation(&self, verb: &str, action: &str, namespaced: bool, write: bool) -> Value {
        let group = &self.gv.group;
        let id = format!(
            "{verb}{}{}{}{}",
            camel(if group.is_empty() {
                "core"
            } else {
                group.split('.').next().unwrap_or(group)
            }),
            camel(&self.gv.version),
            if namespaced { "Namespaced" } else { "" },
            self.kind.kind,
        );
        let body = match &self.schema {
            Some(name) => json!({"$ref": format!("#/components/schemas/{name}")}),
            None => json!({"type": "object"}),
        };
        let mut operation = json!({
            "tags": [format!("{}{}", camel(group.split('.').next().unwrap_or("core")), camel(&self.gv.version))],
            "description": format!("{verb} {}", self.kind.kind),
            "operationId": id,
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": body.clone()}}}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": group, "version": self.gv.version, "kind": self.kind.kind},
        });
        if write {
            operation["parameters"] = json!([
                query(
                    "dryRun",
                    "string",
                    "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed"
                ),
                query(
                    "fieldManager",
                    "string",
                    "fieldManager is a name associated with the actor or entity that is making these changes."
                ),
                query(
                    "fieldValidation",
                    "string",
                    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict"
                ),
            ]);
            if action != "patch" {
                operation["requestBody"] =
                    json!({"content": {"*/*": {"schema": body}}, "required": true});
            }
        } else {
            operation["parameters"] = json!([]);
        }
        operation
    }
}

fn patch_schema() -> Value {
    json!({"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"})
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": kind, "uniqueItems": true}})
}

fn path_parameters(namespaced: bool, named: bool) -> Value {
    let mut parameters = Vec::new();
    if named {
        parameters.push(json!({"name": "name", "in": "path", "description": "name of the resource", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
    }
    if namespaced {
        parameters.push(json!({"name": "namespace", "in": "path", "description": "object name and auth scope, such as for teams and projects", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
    }
    Value::Array(parameters)
}

/// `apps` → `Apps`, for operation ids and tags.
fn camel(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
