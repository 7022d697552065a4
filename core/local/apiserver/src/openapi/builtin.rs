//! Schemas of the built-in kinds strait stores, generated from k8s-openapi
//! (the Kubernetes API reference's own descriptions and fields), with the
//! strategic-merge extensions `kubectl apply` reads added back: k8s-openapi
//! does not carry `x-kubernetes-patch-strategy` or `-merge-key`, and without
//! them apply would replace lists like a pod's containers wholesale.

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use schemars::JsonSchema;
use schemars::generate::SchemaGenerator;
use serde_json::{Map, Value};

/// Adds the schema of a built-in kind (and every schema it refers to) to
/// the generator, returning its component name; `None` for other kinds.
pub(super) fn add(
    generator: &mut SchemaGenerator,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<String> {
    let name = match (group, version, kind) {
        ("", "v1", "Service") => named::<core::Service>(generator),
        ("", "v1", "Pod") => named::<core::Pod>(generator),
        ("", "v1", "Namespace") => named::<core::Namespace>(generator),
        ("", "v1", "ConfigMap") => named::<core::ConfigMap>(generator),
        ("", "v1", "Secret") => named::<core::Secret>(generator),
        ("", "v1", "ServiceAccount") => named::<core::ServiceAccount>(generator),
        ("", "v1", "Endpoints") => named::<core::Endpoints>(generator),
        ("", "v1", "Event") => named::<core::Event>(generator),
        ("apps", "v1", "Deployment") => named::<apps::Deployment>(generator),
        ("apps", "v1", "ReplicaSet") => named::<apps::ReplicaSet>(generator),
        ("apps", "v1", "StatefulSet") => named::<apps::StatefulSet>(generator),
        ("apps", "v1", "DaemonSet") => named::<apps::DaemonSet>(generator),
        ("discovery.k8s.io", "v1", "EndpointSlice") => named::<discovery::EndpointSlice>(generator),
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => {
            named::<apiextensions::CustomResourceDefinition>(generator)
        }
        _ => return None,
    };
    Some(name)
}

fn named<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

/// `(schema, property, strategy, merge key)`: the merge lists of the
/// Kubernetes API's OpenAPI documents for the schemas above.
const PATCH_STRATEGIES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "volumes",
        "merge,retainKeys",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "imagePullSecrets",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "hostAliases",
        "merge",
        Some("ip"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        "merge",
        Some("topologyKey"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "schedulingGates",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "resourceClaims",
        "merge,retainKeys",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "ports",
        "merge",
        Some("containerPort"),
    ),
    ("io.k8s.api.core.v1.Container", "env", "merge", Some("name")),
    (
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        "merge",
        Some("mountPath"),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        "merge",
        Some("devicePath"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "ports",
        "merge",
        Some("containerPort"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "env",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        "merge",
        Some("mountPath"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeDevices",
        "merge",
        Some("devicePath"),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "podIPs",
        "merge",
        Some("ip"),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        "merge",
        Some("port"),
    ),
    (
        "io.k8s.api.core.v1.ServiceAccount",
        "secrets",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.NamespaceStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.apps.v1.DeploymentSpec",
        "strategy",
        "retainKeys",
        None,
    ),
    (
        "io.k8s.api.apps.v1.DeploymentStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.apps.v1.DaemonSetStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        "merge",
        Some("uid"),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
        "merge",
        None,
    ),
];

/// Marks the merge lists of whichever schemas above are present.
pub(super) fn add_patch_strategies(schemas: &mut Map<String, Value>) {
    for (schema, property, strategy, key) in PATCH_STRATEGIES {
        let Some(property) = schemas
            .get_mut(*schema)
            .and_then(|s| s.get_mut("properties"))
            .and_then(|p| p.get_mut(*property))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        property.insert("x-kubernetes-patch-strategy".into(), (*strategy).into());
        if let Some(key) = key {
            property.insert("x-kubernetes-patch-merge-key".into(), (*key).into());
        }
    }
}
