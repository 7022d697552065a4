//! `strait plugin check` as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

use strait_default_plugins::fixtures;

fn check(kind: &str, file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(["plugin", "check", "--kind", kind])
        .arg(file)
        .output()
        .expect("strait runs")
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strait-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(output: &Output, kind: &str) {
    assert!(output.status.success(), "stderr: {}", stderr(output));
    let out = stdout(output);
    let line = out.trim_end();
    let (prefix, digest) = line.rsplit_once(' ').unwrap();
    assert_eq!(prefix, format!("ok {kind}"));
    assert_eq!(digest.len(), 64, "{line}");
    assert!(digest.chars().all(|c| c.is_ascii_hexdigit()), "{line}");
    assert_eq!(out.lines().count(), 1);
}

fn assert_refused(output: &Output, expect: &str) {
    assert_eq!(output.status.code(), Some(1), "stdout: {}", stdout(output));
    assert!(stdout(output).is_empty());
    let err = stderr(output);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(expect), "{err:?} should mention {expect:?}");
}

#[test]
fn the_default_plugins_pass() {
    assert_ok(&check("authz", Path::new(fixtures::AUTHZ_DEFAULT)), "authz");
    assert_ok(
        &check("export", Path::new(fixtures::EXPORT_DEFAULT)),
        "export",
    );
}

#[test]
fn the_digest_is_the_files_sha256() {
    let output = check("authz", Path::new(fixtures::AUTHZ_DEFAULT));
    let first = stdout(&output);
    let again = stdout(&check("authz", Path::new(fixtures::AUTHZ_DEFAULT)));
    assert_eq!(first, again);
    let faulty = stdout(&check("authz", Path::new(fixtures::AUTHZ_FAULTY)));
    assert_ne!(first, faulty);
}

#[test]
fn a_plugin_of_the_other_kind_is_refused() {
    assert_refused(
        &check("export", Path::new(fixtures::AUTHZ_DEFAULT)),
        "is not an export plugin",
    );
    assert_refused(
        &check("authz", Path::new(fixtures::EXPORT_DEFAULT)),
        "is not an authz plugin",
    );
}

#[test]
fn garbage_and_core_modules_are_refused() {
    let garbage = temp_file("garbage.wasm", b"#!/bin/sh\necho not wasm\n");
    assert_refused(&check("authz", &garbage), "is not a Wasm component");
    let module = temp_file("module.wat", b"(module (func (export \"authorize\")))");
    assert_refused(&check("authz", &module), "core module");
    let missing = Path::new("does/not/exist.wasm");
    assert_refused(&check("authz", missing), "does/not/exist.wasm");
}

#[test]
fn wat_components_are_accepted_as_input() {
    let empty = temp_file("empty.wat", b"(component)");
    assert_refused(
        &check("export", &empty),
        "does not export the interface `strait:export-mode/exporter`",
    );
}

#[test]
fn a_bad_kind_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(["plugin", "check", "--kind", "mirror", "x.wasm"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("mirror"));
}

fn strait(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(args)
        .output()
        .expect("strait runs")
}

#[test]
fn without_a_file_check_validates_the_built_in_plugin() {
    assert_ok(&strait(&["plugin", "check", "--kind", "authz"]), "authz");
    assert_ok(&strait(&["plugin", "check", "--kind", "export"]), "export");
}

#[test]
fn the_checked_in_plugins_config_map_is_current() {
    let output = strait(&["plugin", "configmap"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../deploy/plugins/strait-plugins.yaml");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stdout(&output) == checked_in,
        "deploy/plugins/strait-plugins.yaml is stale: regenerate it with \
         `cargo run -p strait-cli -- plugin configmap > deploy/plugins/strait-plugins.yaml`"
    );
}

#[test]
fn the_config_map_carries_given_plugins_and_version() {
    let output = strait(&[
        "plugin",
        "configmap",
        "--authz",
        fixtures::AUTHZ_FAULTY,
        "--plugin-version",
        "v2",
        "-n",
        "strait-system",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let yaml = stdout(&output);
    assert!(yaml.contains("kind: ConfigMap"), "{yaml}");
    assert!(yaml.contains("namespace: strait-system"), "{yaml}");
    assert!(yaml.contains("strait.io/plugin-version: v2"), "{yaml}");
    let authz_line = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("authz.wasm:"))
        .unwrap();
    let default = stdout(&strait(&["plugin", "configmap"]));
    assert!(
        !default.contains(authz_line.trim()),
        "the given authz plugin replaced the default"
    );
}

#[test]
fn the_config_map_refuses_a_bad_plugin() {
    let output = strait(&["plugin", "configmap", "--export", fixtures::AUTHZ_DEFAULT]);
    assert_refused(&output, "is not an export plugin");
}

#[test]
fn the_service_mirror_says_when_kubernetes_cannot_be_reached() {
    let output = Command::new(env!("CARGO_BIN_EXE_strait"))
        .args([
            "controller",
            "service-mirror",
            "--link",
            "east",
            "--admin-addr",
            "127.0.0.1:0",
            "--holder-identity",
            "controller-east-0",
        ])
        .env("KUBECONFIG", "/nonexistent/strait-test-kubeconfig")
        .env("HOME", "/nonexistent")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot reach Kubernetes"),
        "{}",
        stderr(&output)
    );
}
