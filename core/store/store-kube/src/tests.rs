//! Tests against a scripted API server: each test plays the server's part
//! request by request, checking what strait sends and answering as
//! Kubernetes does.

pub(crate) use crate::testing as api_server;
mod kubeconfig;
mod watch;
mod writes;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

/// A Service as the API server returns it.
fn service_json(ns: &str, name: &str, rv: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
        "spec": {"ports": [{"name": "http", "port": 8080}]},
    })
}

/// A Service as a controller writes it.
fn service(ns: &str, name: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: Some(BTreeMap::from([("app".to_string(), name.to_string())])),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The API server's answer when something is missing, as it words it.
fn not_found(kind: &str, name: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": format!("{kind} \"{name}\" not found"),
        "reason": "NotFound",
        "details": {"name": name, "kind": kind},
        "code": 404,
    })
}

/// A failure Status with `code`, `reason` and `message`.
fn failure(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}
