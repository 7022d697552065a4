//! The example plugins and the built-in defaults pass their own cases files,
//! run through the plugin host as `strait plugin test` runs them.

use std::path::{Path, PathBuf};

use strait_default_plugins::{examples, fixtures};
use strait_plugin_cases::{Cases, Report, detect_kind, load, run};
use strait_plugin_host::{HostConfig, PluginHost, PluginKind, PluginMetrics, PluginSource};

fn host() -> PluginHost {
    PluginHost::new(HostConfig::default(), PluginMetrics::new()).unwrap()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .join(path)
}

fn run_file(plugin: &str, cases: &str) -> (PluginKind, Cases, Report) {
    let host = host();
    let plugin = PluginSource::File(Path::new(plugin)).read().unwrap();
    let kind = detect_kind(&host, &plugin).unwrap();
    let text = std::fs::read_to_string(repo(cases)).unwrap();
    let cases = load(&text, kind).unwrap_or_else(|e| panic!("{cases}: {e}"));
    let report = run(&host, &plugin, &cases).unwrap();
    (kind, cases, report)
}

fn assert_all_pass(plugin: &str, cases_file: &str, kind: PluginKind, at_least: usize) {
    let (detected, cases, report) = run_file(plugin, cases_file);
    assert_eq!(detected, kind);
    assert!(
        cases.len() >= at_least,
        "{cases_file} has {} cases",
        cases.len()
    );
    assert_eq!(report.results.len(), cases.len());
    assert_eq!(report.failed(), 0, "{cases_file}:\n{report}");
}

#[test]
fn authz_namespaces_passes_its_cases() {
    assert_all_pass(
        examples::AUTHZ_NAMESPACES,
        "plugins/examples/authz-namespaces/cases.yaml",
        PluginKind::Authz,
        10,
    );
}

#[test]
fn export_by_annotation_passes_its_cases() {
    assert_all_pass(
        examples::EXPORT_BY_ANNOTATION,
        "plugins/examples/export-by-annotation/cases.yaml",
        PluginKind::Export,
        6,
    );
}

#[test]
fn the_default_authz_plugin_passes_linkerd_cases() {
    assert_all_pass(
        fixtures::AUTHZ_DEFAULT,
        "plugins/authz-default/cases.yaml",
        PluginKind::Authz,
        10,
    );
}

#[test]
fn the_default_export_plugin_passes_linkerd_cases() {
    assert_all_pass(
        fixtures::EXPORT_DEFAULT,
        "plugins/export-default/cases.yaml",
        PluginKind::Export,
        6,
    );
}

#[test]
fn the_examples_fail_the_defaults_cases() {
    // The cases discriminate: a plugin with other rules does not pass them.
    let (_, _, report) = run_file(
        examples::AUTHZ_NAMESPACES,
        "plugins/authz-default/cases.yaml",
    );
    assert!(report.failed() > 0, "{report}");
    let (_, _, report) = run_file(
        examples::EXPORT_BY_ANNOTATION,
        "plugins/export-default/cases.yaml",
    );
    assert!(report.failed() > 0, "{report}");
}

#[test]
fn an_sdk_plugin_carries_only_its_own_world() {
    // The SDK has bindings for both worlds; a plugin's component must name
    // only the one it implements, or the host would refuse its imports.
    let contains = |bytes: &[u8], needle: &str| {
        bytes
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    let authz = std::fs::read(examples::AUTHZ_NAMESPACES).unwrap();
    assert!(contains(&authz, "strait:authz/authorizer@0.1.0"));
    assert!(!contains(&authz, "strait:export-mode/"));
    let export = std::fs::read(examples::EXPORT_BY_ANNOTATION).unwrap();
    assert!(contains(&export, "strait:export-mode/exporter@0.2.0"));
    // It logs, so it imports its own world's log interface.
    assert!(contains(&export, "strait:export-mode/log@0.2.0"));
    assert!(!contains(&export, "strait:authz/"));
}
