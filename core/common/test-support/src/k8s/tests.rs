use k8s_openapi::api::core::v1::Service;

use super::*;
use crate::objects::service;

#[test]
fn a_namespace_is_named_and_cluster_scoped() {
    let ns = namespace("mc-demo");
    assert_eq!(ns.metadata.name.as_deref(), Some("mc-demo"));
    assert_eq!(ns.metadata.namespace, None);
}

#[test]
fn a_built_object_reads_as_its_type() {
    let svc: Service = typed(service("mc-demo", "bb").port("http", 8080, 8080).build());
    assert_eq!(svc.metadata, meta(Some("mc-demo"), "bb"));
    let ports = svc.spec.and_then(|s| s.ports).unwrap_or_default();
    assert_eq!(ports[0].port, 8080);
}

#[test]
#[should_panic(expected = "\"Service\" \"bb\" is not a")]
fn an_object_of_another_shape_is_named() {
    let mut svc = service("mc-demo", "bb").build();
    svc["spec"]["ports"] = serde_json::json!("not a list");
    let _: Service = typed(svc);
}
