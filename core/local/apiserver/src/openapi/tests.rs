use super::*;

fn kind(group: &str, kind: &str, plural: &str, namespaced: bool) -> StoredKind {
    StoredKind {
        group: group.into(),
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
    }
}

fn core() -> GroupVersion {
    GroupVersion {
        group: String::new(),
        version: "v1".into(),
        resources: vec![
            ResourceDoc {
                kind: kind("", "Service", "services", true),
                schema: None,
            },
            ResourceDoc {
                kind: kind("", "Pod", "pods", true),
                schema: None,
            },
            ResourceDoc {
                kind: kind("", "Namespace", "namespaces", false),
                schema: None,
            },
        ],
    }
}

fn link(schema: Value) -> GroupVersion {
    GroupVersion {
        group: "multicluster.linkerd.io".into(),
        version: "v1alpha3".into(),
        resources: vec![ResourceDoc {
            kind: kind("multicluster.linkerd.io", "Link", "links", true),
            schema: Some(schema),
        }],
    }
}

fn link_schema() -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object", "description": "Link spec",
        "properties": {"targetClusterName": {"type": "string"}}}}})
}

#[test]
fn gv_paths_and_schema_names_follow_the_api_server() {
    assert_eq!(gv_path("", "v1"), "api/v1");
    assert_eq!(gv_path("apps", "v1"), "apis/apps/v1");
    assert_eq!(
        schema_name("", "v1", "Service"),
        "io.k8s.api.core.v1.Service"
    );
    assert_eq!(
        schema_name("multicluster.linkerd.io", "v1alpha3", "Link"),
        "io.linkerd.multicluster.v1alpha3.Link"
    );
}

#[test]
fn root_lists_every_gv_with_a_hash_that_follows_the_document() {
    let root = root(&[core(), link(link_schema())]);
    let paths = root["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 2);
    let url = paths["api/v1"]["serverRelativeURL"].as_str().unwrap();
    assert!(url.starts_with("/openapi/v3/api/v1?hash="), "{url}");
    let link_url = paths["apis/multicluster.linkerd.io/v1alpha3"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let again = super::root(&[link(link_schema())]);
    assert_eq!(
        again["paths"]["apis/multicluster.linkerd.io/v1alpha3"]["serverRelativeURL"],
        link_url.as_str()
    );
    let changed = super::root(&[link(json!({"type": "object", "description": "other"}))]);
    assert_ne!(
        changed["paths"]["apis/multicluster.linkerd.io/v1alpha3"]["serverRelativeURL"],
        link_url.as_str()
    );
}

#[test]
fn link_schema_carries_its_kind_and_refers_to_object_meta() {
    let doc = document(&link(link_schema()));
    let schemas = &doc["components"]["schemas"];
    let link = &schemas["io.linkerd.multicluster.v1alpha3.Link"];
    assert_eq!(
        link["x-kubernetes-group-version-kind"],
        json!([{"group": "multicluster.linkerd.io", "version": "v1alpha3", "kind": "Link"}])
    );
    assert_eq!(link["properties"]["spec"]["description"], "Link spec");
    assert_eq!(link["properties"]["kind"]["type"], "string");
    assert_eq!(
        link["properties"]["metadata"]["allOf"][0]["$ref"],
        format!("#/components/schemas/{OBJECT_META}")
    );
    assert!(schemas[OBJECT_META]["properties"]["name"]["description"].is_string());
    let refs = serde_json::to_string(&doc).unwrap();
    for name in refs.split("#/components/schemas/").skip(1) {
        let name = &name[..name.find('"').unwrap()];
        assert!(schemas.get(name).is_some(), "dangling $ref {name}");
    }
}

#[test]
fn patch_operations_take_field_validation_for_their_kind() {
    let doc = document(&core());
    let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "", "version": "v1", "kind": "Service"})
    );
    assert_eq!(patch["x-kubernetes-action"], "patch");
    let parameters = patch["parameters"].as_array().unwrap();
    assert!(
        parameters
            .iter()
            .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
    );
    let ns = &doc["paths"]["/api/v1/namespaces/{name}"]["patch"];
    assert_eq!(ns["x-kubernetes-group-version-kind"]["kind"], "Namespace");
    assert!(
        ns["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    assert!(doc["paths"]["/api/v1/services"]["get"].is_object());
    let link = document(&link(link_schema()));
    let patch = &link["paths"]["/apis/multicluster.linkerd.io/v1alpha3/namespaces/{namespace}/links/{name}"]
        ["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Link");
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
}

#[test]
fn builtin_schemas_describe_their_fields_and_merge_lists() {
    let doc = document(&core());
    let schemas = &doc["components"]["schemas"];
    let service = &schemas["io.k8s.api.core.v1.Service"];
    assert_eq!(
        service["x-kubernetes-group-version-kind"],
        json!([{"group": "", "version": "v1", "kind": "Service"}])
    );
    assert!(service["description"].as_str().unwrap().contains("Service"));
    assert!(service["properties"]["spec"]["allOf"][0]["$ref"].is_string());
    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    let ports = &schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"];
    assert_eq!(ports["x-kubernetes-patch-merge-key"], "port");
    assert_eq!(
        schemas["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"][0]["kind"],
        "Pod"
    );
}

#[test]
fn odd_crd_schemas_do_not_panic() {
    for schema in [json!(null), json!("x"), json!({"properties": 3})] {
        let doc = document(&link(schema));
        assert!(doc["components"]["schemas"]["io.linkerd.multicluster.v1alpha3.Link"]["properties"]["metadata"].is_object());
    }
    let unknown = GroupVersion {
        group: "x.io".into(),
        version: "v1".into(),
        resources: vec![ResourceDoc {
            kind: kind("x.io", "Thing", "things", false),
            schema: None,
        }],
    };
    let doc = document(&unknown);
    assert_eq!(
        doc["paths"]["/apis/x.io/v1/things/{name}"]["patch"]["x-kubernetes-group-version-kind"]["kind"],
        "Thing"
    );
}
