use serde_json::json;

use super::*;

fn link_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "links.multicluster.linkerd.io"},
        "spec": {
            "group": "multicluster.linkerd.io",
            "scope": "Namespaced",
            "names": {"kind": "Link", "plural": "links", "singular": "link", "shortNames": ["lk"]},
            "versions": [
                {"name": "v1alpha2", "served": false},
                {"name": "v1alpha3", "served": true, "storage": true,
                 "subresources": {"status": {}},
                 "additionalPrinterColumns": [{"name": "Cluster", "type": "string", "jsonPath": ".spec.targetClusterName"}],
                 "schema": {"openAPIV3Schema": {"type": "object"}}},
            ],
        },
    })
}

#[test]
fn a_definition_adds_one_resource_per_served_version() {
    let all = all(&[link_crd()]);
    let links: Vec<&Resource> = all.iter().filter(|r| r.kind == "Link").collect();
    assert_eq!(links.len(), 1, "v1alpha2 is not served");
    let link = links[0];
    assert_eq!(link.api_version(), "multicluster.linkerd.io/v1alpha3");
    assert!(link.namespaced);
    assert_eq!(link.short_names, ["lk"]);
    assert_eq!(link.subresources, ["status"]);
    assert!(link.printer_columns.is_some());
    assert_eq!(link.qualified_plural(), "links.multicluster.linkerd.io");
}

#[test]
fn discovery_entries_list_subresources_with_their_kinds() {
    let all = all(&[]);
    let deployments = all.iter().find(|r| r.plural == "deployments").unwrap();
    let entries = deployments.discovery_entries();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["deployments", "deployments/scale", "deployments/status"]
    );
    assert_eq!(entries[1]["kind"], "Scale");
    assert_eq!(entries[1]["group"], "autoscaling");
    assert_eq!(entries[0]["shortNames"], json!(["deploy"]));
}

#[test]
fn group_versions_put_core_first_and_each_group_once() {
    let gvs = group_versions(&all(&[link_crd()]));
    assert_eq!(gvs[0], (String::new(), vec!["v1".to_string()]));
    let apps = gvs.iter().filter(|(g, _)| g == "apps").count();
    assert_eq!(apps, 1);
    assert!(
        gvs.iter()
            .any(|(g, v)| g == "multicluster.linkerd.io" && v == &["v1alpha3"])
    );
}

#[test]
fn a_definition_missing_its_names_defines_nothing() {
    let broken = json!({"spec": {"group": "x.io", "names": {}, "versions": [{"name": "v1"}]}});
    assert_eq!(all(&[broken]).len(), all(&[]).len());
}
