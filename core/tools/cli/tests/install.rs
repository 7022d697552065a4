//! `strait install` and `strait multicluster install` as a user runs them:
//! the YAML they print decodes into Kubernetes' types, and what it starts
//! agrees with the programs in the image (their flags, the proxy's
//! variables, the identity controller's checks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Secret};
use k8s_openapi::api::rbac::v1::Role;
use serde_norway::Value;
use strait_identity::{Issuer, SigningCa};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn strait(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(args)
        .output()
        .expect("strait runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn failure(args: &[&str]) -> String {
    let output = strait(args);
    assert_eq!(output.status.code(), Some(1), "{args:?} succeeded");
    assert!(output.stdout.is_empty(), "nothing printed on failure");
    stderr(&output)
}

/// Each document of a YAML stream.
fn documents(yaml: &str) -> Vec<String> {
    assert!(yaml.starts_with("---\n"));
    // A line that is exactly `---` can only be a document marker.
    format!("\n{yaml}")
        .split("\n---\n")
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// `(kind, namespace, name)` of each document, after checking that it
/// decodes into the k8s-openapi type of its kind.
fn kinds(yaml: &str) -> Vec<(String, String, String)> {
    documents(yaml)
        .iter()
        .map(|doc| {
            let value: Value = serde_norway::from_str(doc).expect("YAML");
            let kind = value["kind"].as_str().expect("kind").to_string();
            decodes(&kind, doc);
            let meta = &value["metadata"];
            (
                kind,
                meta["namespace"].as_str().unwrap_or_default().to_string(),
                meta["name"].as_str().expect("name").to_string(),
            )
        })
        .collect()
}

fn decodes(kind: &str, doc: &str) {
    use k8s_openapi::api::core::v1::{Namespace, Service, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let result = match kind {
        "CustomResourceDefinition" => {
            serde_norway::from_str::<CustomResourceDefinition>(doc).map(drop)
        }
        "Namespace" => serde_norway::from_str::<Namespace>(doc).map(drop),
        "ServiceAccount" => serde_norway::from_str::<ServiceAccount>(doc).map(drop),
        "Secret" => serde_norway::from_str::<Secret>(doc).map(drop),
        "ConfigMap" => serde_norway::from_str::<ConfigMap>(doc).map(drop),
        "ClusterRole" => serde_norway::from_str::<ClusterRole>(doc).map(drop),
        "ClusterRoleBinding" => serde_norway::from_str::<ClusterRoleBinding>(doc).map(drop),
        "Role" => serde_norway::from_str::<Role>(doc).map(drop),
        "RoleBinding" => serde_norway::from_str::<RoleBinding>(doc).map(drop),
        "Service" => serde_norway::from_str::<Service>(doc).map(drop),
        "Deployment" => serde_norway::from_str::<Deployment>(doc).map(drop),
        other => panic!("unexpected kind {other}"),
    };
    result.unwrap_or_else(|e| panic!("{kind}: {e}\n{doc}"));
}

fn typed<K: serde::de::DeserializeOwned>(yaml: &str, kind: &str, name: &str) -> K {
    let doc = documents(yaml)
        .into_iter()
        .find(|doc| {
            let value: Value = serde_norway::from_str(doc).expect("YAML");
            value["kind"] == kind && value["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no {kind} {name}"));
    serde_norway::from_str(&doc).expect("typed")
}

fn container(deployment: &Deployment) -> &Container {
    &deployment
        .spec
        .template
        .spec
        .as_ref()
        .expect("pod")
        .containers[0]
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("strait-cli-install-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write");
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn install_prints_the_crds_and_a_control_plane_with_a_generated_anchor() {
    let output = strait(&["install"]);
    let yaml = stdout(&output);
    let objects = kinds(&yaml);
    assert_eq!(
        objects
            .iter()
            .filter(|o| o.0 == "CustomResourceDefinition")
            .count(),
        strait_api::custom_resource_definitions()
            .expect("the CRDs")
            .len()
    );
    for (kind, name) in [
        ("Namespace", "linkerd"),
        ("ConfigMap", "linkerd-config"),
        ("ConfigMap", "linkerd-identity-trust-roots"),
        ("Secret", "linkerd-identity-issuer"),
        ("Deployment", "linkerd-identity"),
        ("Deployment", "linkerd-destination"),
        ("Deployment", "linkerd-policy"),
        ("Service", "linkerd-identity"),
        ("Service", "linkerd-dst"),
        ("Service", "linkerd-policy"),
    ] {
        assert!(
            objects.iter().any(|o| o.0 == kind && o.2 == name),
            "{kind} {name}"
        );
    }
    let note = stderr(&output);
    assert!(
        note.contains("No other cluster shares that anchor"),
        "{note}"
    );
    assert!(note.contains("--identity-trust-anchors-file"), "{note}");

    // The identity controller accepts what was generated, as it reads it
    // from the mounted ConfigMap and Secret.
    let roots: ConfigMap = typed(&yaml, "ConfigMap", "linkerd-identity-trust-roots");
    let issuer: Secret = typed(&yaml, "Secret", "linkerd-identity-issuer");
    let data = issuer.data.expect("data");
    let text = |key: &str| String::from_utf8(data[key].0.clone()).expect("text");
    let scratch = Scratch::new("generated");
    let anchors = scratch.write("ca-bundle.crt", &roots.data.expect("data")["ca-bundle.crt"]);
    let cert = scratch.write("crt.pem", &text("tls.crt"));
    let key = scratch.write("key.pem", &text("tls.key"));
    Issuer::from_pem_files(Path::new(&anchors), Path::new(&cert), Path::new(&key))
        .expect("the identity controller accepts the generated issuer");
    assert_eq!(
        text("ca.crt"),
        std::fs::read_to_string(&anchors).expect("anchors")
    );
}

#[test]
fn install_crds_prints_what_strait_crds_prints() {
    let output = strait(&["install", "--crds"]);
    let crds = stdout(&output);
    assert!(
        output.stderr.is_empty(),
        "no anchor is generated for --crds"
    );
    assert_eq!(crds, stdout(&strait(&["crds"])));
    let rest = stdout(&strait(&["install", "--skip-crds"]));
    assert!(
        kinds(&rest)
            .iter()
            .all(|o| o.0 != "CustomResourceDefinition")
    );
    // A usage error, as clap reports them (exit 2).
    let both = strait(&["install", "--crds", "--skip-crds"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );
}

#[test]
fn install_uses_the_users_anchor_and_issuer() {
    let root = SigningCa::generate_root("root.linkerd.cluster.local", DAY).expect("root");
    let issuer = root
        .generate_intermediate("identity.linkerd.cluster.local", DAY)
        .expect("issuer");
    let scratch = Scratch::new("given");
    let anchors = scratch.write("ca.crt", &root.certificate_pem());
    let cert = scratch.write("issuer.crt", &issuer.certificate_pem());
    let key = scratch.write("issuer.key", issuer.key_pem());
    let output = strait(&[
        "install",
        "--identity-trust-anchors-file",
        &anchors,
        "--identity-issuer-certificate-file",
        &cert,
        "--identity-issuer-key-file",
        &key,
        "--identity-trust-domain",
        "mesh.example",
    ]);
    let yaml = stdout(&output);
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
    let secret: Secret = typed(&yaml, "Secret", "linkerd-identity-issuer");
    let data = secret.data.expect("data");
    assert_eq!(data["tls.crt"].0, issuer.certificate_pem().into_bytes());
    assert_eq!(data["tls.key"].0, issuer.key_pem().as_bytes());
    assert_eq!(data["ca.crt"].0, root.certificate_pem().into_bytes());
    let config: ConfigMap = typed(&yaml, "ConfigMap", "linkerd-config");
    assert!(config.data.expect("data")["values"].contains("identityTrustDomain: mesh.example"));

    // Partial, foreign and mismatched material is refused, naming the
    // flags or the file.
    let message = failure(&["install", "--identity-issuer-key-file", &key]);
    assert!(
        message.contains("not --identity-trust-anchors-file, --identity-issuer-certificate-file"),
        "{message}"
    );
    let other = SigningCa::generate_root("other", DAY).expect("other root");
    let other_issuer = other
        .generate_intermediate("other issuer", DAY)
        .expect("other issuer");
    let foreign_cert = scratch.write("foreign.crt", &other_issuer.certificate_pem());
    let foreign_key = scratch.write("foreign.key", other_issuer.key_pem());
    let message = failure(&[
        "install",
        "--identity-trust-anchors-file",
        &anchors,
        "--identity-issuer-certificate-file",
        &foreign_cert,
        "--identity-issuer-key-file",
        &foreign_key,
    ]);
    assert!(
        message.contains(&format!("{foreign_cert}: issuer")),
        "{message}"
    );
    assert!(
        message.contains("not signed by any trust anchor"),
        "{message}"
    );
    let message = failure(&[
        "install",
        "--identity-trust-anchors-file",
        &anchors,
        "--identity-issuer-certificate-file",
        &cert,
        "--identity-issuer-key-file",
        &foreign_key,
    ]);
    assert!(
        message.contains(&format!("{foreign_key}: the key does not belong")),
        "{message}"
    );
    let garbage = scratch.write("garbage.crt", "hello\n");
    let message = failure(&[
        "install",
        "--identity-trust-anchors-file",
        &garbage,
        "--identity-issuer-certificate-file",
        &cert,
        "--identity-issuer-key-file",
        &key,
    ]);
    assert!(
        message.contains(&format!("{garbage}: no CERTIFICATE")),
        "{message}"
    );
}

/// Runs the program a container starts with its arguments and `--help`
/// last: clap rejects an unknown flag or a bad value before it prints the
/// help, so this proves the rendered arguments are ones the program takes.
fn accepts_arguments(container: &Container) {
    let command = container.command.clone().expect("command");
    assert_eq!(command[0], strait_api::image::STRAIT_BIN, "{command:?}");
    let mut argv: Vec<String> = command[1..].to_vec();
    argv.extend(container.args.clone().unwrap_or_default());
    argv.push("--help".into());
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let output = strait(&argv);
    assert!(output.status.success(), "{argv:?}: {}", stderr(&output));
}

#[test]
fn every_controller_takes_the_arguments_it_is_given() {
    let yaml = stdout(&strait(&["install", "--skip-crds"]));
    for name in ["linkerd-identity", "linkerd-destination", "linkerd-policy"] {
        let deployment: Deployment = typed(&yaml, "Deployment", name);
        accepts_arguments(container(&deployment));
    }
    let yaml = stdout(&strait(&[
        "multicluster",
        "install",
        "--set",
        "controllers[0].link.ref.name=target",
    ]));
    let mirror: Deployment = typed(&yaml, "Deployment", "controller-target");
    accepts_arguments(container(&mirror));
}

#[test]
fn the_gateway_environment_configures_a_proxy_in_gateway_mode() {
    let scratch = Scratch::new("gateway");
    let root = SigningCa::generate_root("root.linkerd.cluster.local", DAY).expect("root");
    let anchors = scratch.write("ca.crt", &root.certificate_pem());
    let output = strait(&[
        "multicluster",
        "install",
        "--identity-trust-anchors-file",
        &anchors,
    ]);
    let yaml = stdout(&output);
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
    let gateway: Deployment = typed(&yaml, "Deployment", "linkerd-gateway");
    let roots: ConfigMap = typed(&yaml, "ConfigMap", "linkerd-identity-trust-roots");
    let roots = roots.data.expect("data");
    let container = container(&gateway);
    assert_eq!(
        container.command.as_deref(),
        Some(&[strait_api::image::PROXY_BIN.to_string()][..])
    );
    // The environment as the kubelet would build it for pod `gw-1`.
    let pod = [
        ("metadata.name", "gw-1"),
        ("metadata.namespace", "linkerd-multicluster"),
        ("spec.serviceAccountName", "linkerd-gateway"),
        ("spec.nodeName", "node-1"),
    ];
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(value), _) => {
                let mut value = value.clone();
                for (name, resolved) in &env {
                    value = value.replace(&format!("$({name})"), resolved);
                }
                value
            }
            (None, Some(from)) => match (&from.field_ref, &from.config_map_key_ref) {
                (Some(field), _) => pod
                    .iter()
                    .find(|(path, _)| *path == field.field_path)
                    .map(|(_, v)| v.to_string())
                    .expect("a known field"),
                (_, Some(key)) => roots[&key.key].clone(),
                _ => panic!("{var:?}"),
            },
            _ => panic!("{var:?}"),
        };
        env.insert(var.name.clone(), value);
    }
    let config = strait_proxy::ProxyConfig::from_lookup(|name| env.get(name).cloned())
        .expect("the proxy reads the gateway's environment");
    assert!(config.gateway);
    assert_eq!(
        config.identity.local_name,
        "linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local"
    );
    assert_eq!(
        config.policy_workload,
        r#"{"ns":"linkerd-multicluster","pod":"gw-1"}"#
    );
    assert_eq!(config.inbound_listen_addr.port(), 4143);
    assert_eq!(config.admin_listen_addr.port(), 4191);
    assert_eq!(config.identity.trust_anchors_pem, root.certificate_pem());
    // Every variable set is one the proxy documents.
    for name in env.keys().filter(|n| !n.starts_with('_')) {
        assert!(
            strait_proxy::VARIABLES.iter().any(|(v, _)| v == name),
            "{name} is not a proxy variable"
        );
    }
}

#[test]
fn multicluster_install_follows_gateway_and_set() {
    let yaml = stdout(&strait(&[
        "multicluster",
        "install",
        "--gateway=false",
        "--set",
        "controllers[0].link.ref.name=target",
    ]));
    let objects = kinds(&yaml);
    assert!(
        objects.iter().all(|o| o.2 != "linkerd-gateway"),
        "{objects:?}"
    );
    assert!(
        objects
            .iter()
            .any(|o| o.0 == "Deployment" && o.2 == "controller-target")
    );
    // Two Roles of that name: beside the Link (its Lease), and in the
    // control plane's namespace (the plugins ConfigMap).
    let roles: Vec<Role> = documents(&yaml)
        .iter()
        .filter_map(|doc| serde_norway::from_str::<Role>(doc).ok())
        .filter(|role| role.metadata.name.as_deref() == Some("linkerd-service-mirror-target"))
        .collect();
    let in_namespace = |ns: &str| {
        roles
            .iter()
            .find(|role| role.metadata.namespace.as_deref() == Some(ns))
            .unwrap_or_else(|| panic!("no service mirror Role in {ns}"))
    };
    let link_role = in_namespace("linkerd-multicluster");
    assert!(link_role.rules.iter().flatten().any(|rule| {
        rule.resources.as_deref() == Some(&["leases".to_string()][..])
            && rule.resource_names.as_deref()
                == Some(&["service-mirror-write-target".to_string()][..])
    }));
    // The mirror reads the plugins ConfigMap and writes only the status
    // ConfigMap beside it.
    let role = in_namespace("linkerd");
    let config_map_writes: Vec<_> = role
        .rules
        .iter()
        .flatten()
        .filter(|rule| {
            rule.resources.as_deref() == Some(&["configmaps".to_string()][..])
                && rule
                    .verbs
                    .iter()
                    .any(|v| !matches!(v.as_str(), "get" | "list" | "watch"))
        })
        .collect();
    assert_eq!(config_map_writes.len(), 1, "{config_map_writes:?}");
    assert_eq!(
        config_map_writes[0].resource_names.as_deref(),
        Some(&[strait_plugin_config::PLUGINS_STATUS_CONFIG_MAP.to_string()][..])
    );

    // Offline: a context that names no cluster does not matter.
    let output = strait(&[
        "--context",
        "nowhere",
        "multicluster",
        "install",
        "--gateway=false",
    ]);
    stdout(&output);

    let note = stderr(&strait(&["multicluster", "install"]));
    assert!(note.contains("linkerd-identity-trust-roots"), "{note}");

    let message = failure(&[
        "multicluster",
        "install",
        "--set",
        "controllers[0].link.name=x",
    ]);
    assert!(
        message.contains("controllers[0].link.name: unknown key"),
        "{message}"
    );
    let message = failure(&["multicluster", "install", "--set", "gateway.enabled=maybe"]);
    assert!(message.contains("gateway.enabled=maybe"), "{message}");
}

#[test]
fn identity_controller_defaults_are_where_the_install_mounts_files() {
    // The identity controller's own defaults are where the install mounts
    // the files, so the controller also works when run without flags.
    let help = stdout(&strait(&["controller", "identity", "--help"]));
    for path in [
        strait_mesh::names::TRUST_ANCHORS_FILE,
        strait_mesh::names::ISSUER_CERTIFICATE_FILE,
        strait_mesh::names::ISSUER_KEY_FILE,
    ] {
        assert!(help.contains(&format!("[default: {path}]")), "{path}");
    }
}
