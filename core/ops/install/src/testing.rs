//! Checks every test of rendered objects shares.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::de::DeserializeOwned;
use strait_api::policy::{
    AuthorizationPolicy, MeshTlsAuthentication, NetworkAuthentication, Server,
};

use crate::object::{Object, render};

/// The YAML stream of `objects`, split into documents and each decoded
/// back into the type its `kind` names; every one must equal what was
/// rendered, so nothing is lost or renamed on the way to the API server.
pub fn round_trip(objects: &[Object]) {
    let yaml = render(objects).expect("renders");
    assert!(yaml.starts_with("---\n"));
    // A line that is exactly `---` can only be a document marker.
    let stream = format!("\n{yaml}");
    let documents: Vec<&str> = stream.split("\n---\n").skip(1).collect();
    assert_eq!(documents.len(), objects.len());
    for (document, object) in documents.iter().zip(objects) {
        let value: serde_norway::Value = serde_norway::from_str(document).expect("YAML");
        let kind = value["kind"].as_str().expect("a kind");
        assert_eq!(kind, object.kind());
        let parsed = parse(kind, document);
        assert_eq!(
            &parsed,
            object,
            "{kind} {} changed on the way",
            object.name()
        );
    }
}

fn typed<K: DeserializeOwned + Into<Object>>(document: &str) -> Object {
    serde_norway::from_str::<K>(document)
        .unwrap_or_else(|e| panic!("{e}\n{document}"))
        .into()
}

fn parse(kind: &str, document: &str) -> Object {
    match kind {
        "CustomResourceDefinition" => typed::<CustomResourceDefinition>(document),
        "Namespace" => typed::<Namespace>(document),
        "ServiceAccount" => typed::<ServiceAccount>(document),
        "Secret" => typed::<Secret>(document),
        "ConfigMap" => typed::<ConfigMap>(document),
        "ClusterRole" => typed::<ClusterRole>(document),
        "ClusterRoleBinding" => typed::<ClusterRoleBinding>(document),
        "Role" => typed::<Role>(document),
        "RoleBinding" => typed::<RoleBinding>(document),
        "Service" => typed::<Service>(document),
        "Deployment" => typed::<Deployment>(document),
        "Server" => typed::<Server>(document),
        "AuthorizationPolicy" => typed::<AuthorizationPolicy>(document),
        "MeshTLSAuthentication" => typed::<MeshTlsAuthentication>(document),
        "NetworkAuthentication" => typed::<NetworkAuthentication>(document),
        other => panic!("unexpected kind {other}"),
    }
}

/// `(kind, namespace, name)` of every object, in order.
pub fn index(objects: &[Object]) -> Vec<(&'static str, Option<String>, String)> {
    objects
        .iter()
        .map(|o| {
            (
                o.kind(),
                o.namespace().map(str::to_string),
                o.name().to_string(),
            )
        })
        .collect()
}

/// Whether an object of `kind` named `name` in `namespace` is rendered.
pub fn has(objects: &[Object], kind: &str, namespace: Option<&str>, name: &str) -> bool {
    objects
        .iter()
        .any(|o| o.kind() == kind && o.namespace() == namespace && o.name() == name)
}

/// Every Deployment rendered.
pub fn deployments(objects: &[Object]) -> Vec<&Deployment> {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::Deployment(d) => Some(d),
            _ => None,
        })
        .collect()
}

/// Every rule of every Role and ClusterRole, with the role's name.
pub fn rules(objects: &[Object]) -> Vec<(String, PolicyRule)> {
    objects
        .iter()
        .flat_map(|o| {
            let rules = match o {
                Object::Role(r) => r.rules.clone().unwrap_or_default(),
                Object::ClusterRole(r) => r.rules.clone().unwrap_or_default(),
                _ => Vec::new(),
            };
            rules.into_iter().map(|r| (o.name().to_string(), r))
        })
        .collect()
}

/// The checks every rendered Deployment must pass: its ServiceAccount,
/// ConfigMaps and Secrets are rendered (or named in `provided`, objects
/// the user brings), its containers are locked down and probed, and its
/// selector matches its pods.
pub fn check_deployments(objects: &[Object], provided: &[(&str, &str, &str)]) {
    let exists = |kind: &str, namespace: &str, name: &str| {
        has(objects, kind, Some(namespace), name) || provided.contains(&(kind, namespace, name))
    };
    for deployment in deployments(objects) {
        let name = deployment.metadata.name.as_deref().unwrap_or_default();
        let namespace = deployment
            .metadata
            .namespace
            .as_deref()
            .expect("namespaced");
        let template = &deployment.spec.template;
        let pod_labels = template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        for (key, value) in deployment.spec.selector.match_labels.iter().flatten() {
            assert_eq!(pod_labels.get(key), Some(value), "{name}: selector {key}");
        }
        let pod = template.spec.as_ref().expect("pod spec");
        let account = pod
            .service_account_name
            .as_deref()
            .expect("a ServiceAccount");
        assert!(
            exists("ServiceAccount", namespace, account),
            "{name}: {account}"
        );
        for volume in pod.volumes.iter().flatten() {
            if let Some(cm) = &volume.config_map {
                assert!(
                    exists("ConfigMap", namespace, &cm.name),
                    "{name}: {}",
                    cm.name
                );
            }
            if let Some(secret) = &volume.secret {
                let secret = secret.secret_name.as_deref().expect("named");
                assert!(exists("Secret", namespace, secret), "{name}: {secret}");
            }
        }
        assert_eq!(
            pod.security_context
                .as_ref()
                .and_then(|s| s.run_as_non_root),
            Some(true),
            "{name}"
        );
        for container in &pod.containers {
            let command = container.command.clone().unwrap_or_default();
            let program = command.first().map(String::as_str);
            assert!(
                program == Some(strait_api::image::STRAIT_BIN)
                    || program == Some(strait_api::image::PROXY_BIN),
                "{name}: {command:?}"
            );
            let security = container.security_context.as_ref().expect("security");
            assert_eq!(security.run_as_non_root, Some(true), "{name}");
            assert_eq!(security.read_only_root_filesystem, Some(true), "{name}");
            assert_eq!(security.allow_privilege_escalation, Some(false), "{name}");
            assert_eq!(
                security.capabilities.as_ref().and_then(|c| c.drop.clone()),
                Some(vec!["ALL".to_string()]),
                "{name}"
            );
            let resources = container.resources.as_ref().expect("resources");
            let requests = resources.requests.as_ref().expect("requests");
            assert!(requests.contains_key("cpu") && requests.contains_key("memory"));
            let ports: Vec<String> = container
                .ports
                .iter()
                .flatten()
                .filter_map(|p| p.name.clone())
                .collect();
            for (probe, path) in [
                (&container.readiness_probe, "/ready"),
                (&container.liveness_probe, "/live"),
            ] {
                let get = probe
                    .as_ref()
                    .and_then(|p| p.http_get.as_ref())
                    .unwrap_or_else(|| panic!("{name}: {path} probe"));
                assert_eq!(get.path.as_deref(), Some(path), "{name}");
                let k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(port) =
                    &get.port
                else {
                    panic!("{name}: probes name their port");
                };
                assert!(ports.contains(port), "{name}: probe port {port}");
            }
            for var in container.env.iter().flatten() {
                let from = var.value_from.as_ref();
                if let Some(cm) = from.and_then(|f| f.config_map_key_ref.as_ref()) {
                    assert!(
                        exists("ConfigMap", namespace, &cm.name),
                        "{name}: {}",
                        cm.name
                    );
                }
                if let Some(secret) = from.and_then(|f| f.secret_key_ref.as_ref()) {
                    assert!(exists("Secret", namespace, &secret.name), "{name}");
                }
            }
        }
    }
}

/// No rule grants a wildcard group, resource, verb or name.
pub fn check_no_wildcards(objects: &[Object]) {
    for (role, rule) in rules(objects) {
        let all = rule
            .api_groups
            .iter()
            .flatten()
            .chain(rule.resources.iter().flatten())
            .chain(rule.verbs.iter())
            .chain(rule.resource_names.iter().flatten());
        for item in all {
            assert!(!item.contains('*'), "{role}: {rule:?}");
        }
        assert!(rule.non_resource_urls.is_none(), "{role}");
    }
}

/// The verbs that create, change or remove an object.
const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// The write verbs `rule` grants on the core ConfigMap `name`: those of a
/// rule on `configmaps` whose names, if it lists any, include `name`.
pub fn config_map_writes(rule: &PolicyRule, name: &str) -> Vec<String> {
    let core = rule.api_groups.iter().flatten().any(|g| g.is_empty());
    let config_maps = rule.resources.iter().flatten().any(|r| r == "configmaps");
    let named = rule
        .resource_names
        .as_ref()
        .is_none_or(|names| names.iter().any(|n| n == name));
    if !(core && config_maps && named) {
        return Vec::new();
    }
    rule.verbs
        .iter()
        .filter(|v| WRITE_VERBS.contains(&v.as_str()))
        .cloned()
        .collect()
}

/// No rule lets anything the installer renders write the plugins
/// ConfigMap: only the operator pushes plugins, with their own credentials.
pub fn check_plugins_config_map_read_only(objects: &[Object]) {
    for (role, rule) in rules(objects) {
        let writes = config_map_writes(&rule, strait_mesh::names::PLUGINS_CONFIG_MAP);
        assert!(writes.is_empty(), "{role} may {writes:?} it: {rule:?}");
    }
}

/// Every object carries strait's label, and every binding binds a role
/// and ServiceAccount that are rendered.
pub fn check_labels_and_bindings(objects: &[Object]) {
    for object in objects {
        if let Object::CustomResourceDefinition(_) = object {
            continue;
        }
        let labels = object.metadata().labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get("app.kubernetes.io/part-of").map(String::as_str),
            Some("strait"),
            "{} {}",
            object.kind(),
            object.name()
        );
    }
    for object in objects {
        let (role_ref, subjects, namespace) = match object {
            Object::ClusterRoleBinding(b) => (&b.role_ref, &b.subjects, None),
            Object::RoleBinding(b) => (&b.role_ref, &b.subjects, b.metadata.namespace.as_deref()),
            _ => continue,
        };
        assert!(
            has(objects, &role_ref.kind, namespace, &role_ref.name),
            "{} binds a missing {} {}",
            object.name(),
            role_ref.kind,
            role_ref.name
        );
        for subject in subjects.iter().flatten() {
            assert_eq!(subject.kind, "ServiceAccount");
            assert!(
                has(
                    objects,
                    "ServiceAccount",
                    subject.namespace.as_deref(),
                    &subject.name
                ),
                "{} binds a missing account {}",
                object.name(),
                subject.name
            );
        }
    }
}
