//! Golden tests: each `tests/golden/NAME.input.*` injected must give
//! `NAME.output.yaml` on stdout and `NAME.report` on stderr, with this
//! build's version written as `VERSION`.
//!
//! After an intended change, rewrite the expected files with
//! `STRAIT_UPDATE_GOLDEN=1 cargo test -p strait-inject --test golden` and
//! review the diff.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Namespace, Pod, PodSpec};
use strait_inject::{InjectOptions, inject, render_reports};

const IMAGE: &str = "ghcr.io/strait-mesh/strait:test";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The mesh's trust anchors; injection copies them into the proxy's
/// environment as they are.
const ANCHORS: &str = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

fn options() -> InjectOptions {
    InjectOptions {
        image: IMAGE.into(),
        ..InjectOptions::new(ANCHORS)
    }
}

/// Injects the case's input; returns (output, report) with the version
/// normalised.
fn run(name: &str) -> (String, String) {
    let input_path = ["yaml", "json"]
        .iter()
        .map(|ext| dir().join(format!("{name}.input.{ext}")))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no input for {name}"));
    let input = std::fs::read_to_string(&input_path).expect("input");
    let injected = inject(&input, &input_path.display().to_string(), &options())
        .unwrap_or_else(|e| panic!("{e}"));
    let version = env!("CARGO_PKG_VERSION");
    (
        injected.output.replace(version, "VERSION"),
        render_reports(&injected.reports).replace(version, "VERSION"),
    )
}

fn check(name: &str) -> String {
    let (output, report) = run(name);
    for (file, actual) in [
        (format!("{name}.output.yaml"), &output),
        (format!("{name}.report"), &report),
    ] {
        let path = dir().join(&file);
        if std::env::var_os("STRAIT_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, actual).expect("write golden");
            continue;
        }
        let expected =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            &expected == actual,
            "{file} differs; got:\n{actual}\n(rewrite with STRAIT_UPDATE_GOLDEN=1 after review)"
        );
    }
    output
}

/// The only documents of a stream, parsed as `T`.
fn parse_all<T: serde::de::DeserializeOwned>(output: &str) -> Vec<T> {
    documents(output)
        .into_iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_norway::from_str(&d).unwrap_or_else(|e| panic!("{e}:\n{d}")))
        .collect()
}

/// The documents of a stream: the text between `---` lines (a PEM block's
/// `-----END CERTIFICATE-----` line is not one).
fn documents(output: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in output.lines() {
        if line == "---" {
            documents.push(String::new());
        } else if let Some(current) = documents.last_mut() {
            current.push_str(line);
            current.push('\n');
        }
    }
    documents
}

/// What `strait local` and the indexes go by: a container named
/// `linkerd-proxy`. Also checks the init container and the token volume.
fn assert_meshed(spec: &PodSpec) {
    let proxy = spec
        .containers
        .iter()
        .find(|c| c.name == "linkerd-proxy")
        .expect("a linkerd-proxy container");
    assert_eq!(proxy.image.as_deref(), Some(IMAGE));
    assert_eq!(
        proxy.command.as_deref(),
        Some(&[strait_api::image::PROXY_BIN.to_string()][..])
    );
    let security = proxy
        .security_context
        .as_ref()
        .expect("proxy securityContext");
    assert_eq!(security.run_as_user, Some(strait_api::image::PROXY_UID));
    assert_eq!(security.run_as_non_root, Some(true));
    let init = spec
        .init_containers
        .as_ref()
        .and_then(|c| c.iter().find(|c| c.name == "linkerd-init"))
        .expect("a linkerd-init container");
    assert_eq!(
        init.command.as_deref(),
        Some(&[strait_api::image::STRAIT_BIN.to_string()][..])
    );
    assert_eq!(
        init.args
            .as_ref()
            .and_then(|a| a.first())
            .map(String::as_str),
        Some("proxy-init")
    );
    let caps = init
        .security_context
        .as_ref()
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.clone())
        .unwrap_or_default();
    assert_eq!(caps, ["NET_ADMIN", "NET_RAW"]);
    let volumes = spec.volumes.as_deref().unwrap_or_default();
    let token = volumes
        .iter()
        .find(|v| v.name == "linkerd-identity-token")
        .and_then(|v| v.projected.as_ref())
        .and_then(|p| p.sources.as_ref())
        .and_then(|s| s.first())
        .and_then(|s| s.service_account_token.as_ref())
        .expect("the projected token");
    assert_eq!(token.audience.as_deref(), Some("identity.l5d.io"));
}

#[test]
fn deployment() {
    let output = check("deployment");
    let [deployment]: [Deployment; 1] = parse_all(&output).try_into().expect("one Deployment");
    let template = deployment.spec.template;
    let spec = template.spec.expect("pod spec");
    assert_meshed(&spec);
    // The application's container and volume are still there.
    assert!(spec.containers.iter().any(|c| c.name == "terminus"));
    assert!(
        spec.volumes
            .unwrap_or_default()
            .iter()
            .any(|v| v.name == "scratch")
    );
    let labels = template.metadata.expect("metadata").labels.expect("labels");
    assert_eq!(
        labels
            .get("linkerd.io/proxy-deployment")
            .map(String::as_str),
        Some("bb")
    );
    assert_eq!(
        labels.get("linkerd.io/workload-ns").map(String::as_str),
        Some("mc-demo")
    );
    assert_eq!(labels.get("app").map(String::as_str), Some("bb"));
    // Fields unknown to the injector keep their place and values.
    let futures = output.find("futureField:").expect("futureField kept");
    assert!(output[futures..].starts_with("futureField:\n    zeta: 1\n    alpha: \"2\"\n"));
    assert!(output.contains("\nx-extension: kept\n"));
}

#[test]
fn namespace() {
    let output = check("namespace");
    let [namespace]: [Namespace; 1] = parse_all(&output).try_into().expect("one Namespace");
    let metadata = namespace.metadata;
    assert_eq!(
        metadata
            .annotations
            .unwrap_or_default()
            .get("linkerd.io/inject")
            .map(String::as_str),
        Some("enabled")
    );
    assert_eq!(metadata.labels.unwrap_or_default().len(), 1);
}

#[test]
fn multi_document() {
    let output = check("multi");
    assert_eq!(output.lines().filter(|l| *l == "---").count(), 3);
    assert!(output.contains("kind: Service"));
}

#[test]
fn untouched_kinds_pass_through_byte_for_byte() {
    let output = check("untouched");
    let input = std::fs::read_to_string(dir().join("untouched.input.yaml")).expect("input");
    assert!(output.contains("  name: bb   # the target\n"));
    assert!(output.contains("  ports: [{name: http, port: 8080, targetPort: 8080}]\n"));
    // Both documents as written (the separator line's comment aside).
    let body = input.replace("--- # next\n", "---\n");
    assert_eq!(output, format!("{body}---\n"));
}

#[test]
fn already_injected_workloads_are_skipped() {
    let output = check("already-injected");
    let input = std::fs::read_to_string(dir().join("already-injected.input.yaml")).expect("input");
    assert_eq!(output, format!("{input}---\n"));
}

#[test]
fn disabled_and_host_network_workloads_are_skipped() {
    let output = check("disabled");
    assert!(!output.contains("linkerd-proxy"));
}

#[test]
fn lists_are_injected_item_by_item() {
    let output = check("list");
    let value: serde_norway::Value =
        serde_norway::from_str(output.trim_end_matches("---\n")).expect("one document");
    let items = value["items"].as_sequence().expect("items");
    assert_eq!(items.len(), 2);
    let deployment: Deployment = serde_norway::from_value(items[0].clone()).expect("Deployment");
    let spec = deployment.spec.template.spec.expect("pod spec");
    assert_meshed(&spec);
    assert_eq!(spec.service_account_name.as_deref(), Some("slow-cooker"));
    assert_eq!(items[1]["kind"].as_str(), Some("ServiceAccount"));
}

#[test]
fn cronjobs_are_injected_in_their_job_template() {
    let output = check("cronjob");
    let [cronjob]: [CronJob; 1] = parse_all(&output).try_into().expect("one CronJob");
    let spec = cronjob
        .spec
        .job_template
        .spec
        .and_then(|s| s.template.spec)
        .expect("pod spec");
    assert_meshed(&spec);
}

#[test]
fn bare_pods_in_json_are_injected() {
    let output = check("pod");
    let [pod]: [Pod; 1] = parse_all(&output).try_into().expect("one Pod");
    assert_meshed(&pod.spec.expect("spec"));
    let labels = pod.metadata.labels.unwrap_or_default();
    assert!(
        !labels.keys().any(|k| k.starts_with("linkerd.io/proxy-")),
        "{labels:?}"
    );
}
