//! `strait plugin test` as a plugin author runs it: the report's lines, the
//! summary and the exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strait_default_plugins::{examples, fixtures};

fn strait(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(args)
        .output()
        .expect("strait runs")
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .join(path)
        .display()
        .to_string()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strait-plugin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_example_passes_its_cases_with_the_kind_inferred() {
    let cases = repo("plugins/examples/authz-namespaces/cases.yaml");
    let output = strait(&[
        "plugin",
        "test",
        examples::AUTHZ_NAMESPACES,
        "--cases",
        &cases,
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    let (summary, cases) = lines.split_last().unwrap();
    assert!(cases.len() >= 10, "{out}");
    assert!(cases.iter().all(|l| l.starts_with("PASS ")), "{out}");
    assert!(cases.contains(&"PASS the admin may POST"), "{out}");
    assert_eq!(*summary, format!("{} passed, 0 failed", cases.len()));

    let cases = repo("plugins/examples/export-by-annotation/cases.yaml");
    let output = strait(&[
        "plugin",
        "test",
        examples::EXPORT_BY_ANNOTATION,
        "--cases",
        &cases,
        "--kind",
        "export",
    ]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(stdout(&output).ends_with(" passed, 0 failed\n"));
}

#[test]
fn a_failing_case_is_reported_and_exits_1() {
    let cases = temp_file(
        "mixed.yaml",
        "- name: plaintext is admitted\n  client: plaintext\n  candidates: [{reference: default/all-unauthenticated, authentication: unauthenticated}]\n  expect: allow\n\
         - name: expects too much\n  client: plaintext\n  candidates: [{reference: default/all-unauthenticated, authentication: unauthenticated}]\n  expect: deny\n",
    );
    let output = strait(&[
        "plugin",
        "test",
        fixtures::AUTHZ_DEFAULT,
        "--cases",
        cases.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "PASS plaintext is admitted\n\
         FAIL expects too much: expected deny, got allow default/all-unauthenticated\n\
         1 passed, 1 failed\n"
    );
}

#[test]
fn a_malformed_cases_file_names_the_case_and_field_and_exits_2() {
    let cases = temp_file(
        "bad.yaml",
        "- name: fine\n  client: tls\n  expect: deny\n- name: bad port\n  client: tls\n  request: {port: http}\n  expect: deny\n",
    );
    let output = strait(&[
        "plugin",
        "test",
        fixtures::AUTHZ_DEFAULT,
        "--cases",
        cases.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains("case 1 (\"bad port\"): request.port: expected a port number"),
        "{err}"
    );
}

#[test]
fn the_wrong_kind_is_an_error_naming_the_world() {
    let cases = repo("plugins/export-default/cases.yaml");
    // An authz plugin told to run as an export plugin.
    let output = strait(&[
        "plugin",
        "test",
        fixtures::AUTHZ_DEFAULT,
        "--cases",
        &cases,
        "--kind",
        "export",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("is not an export plugin"), "{err}");
    assert!(err.contains("strait:authz/authz-plugin"), "{err}");
    // Export cases against an authz plugin whose kind is inferred.
    let output = strait(&["plugin", "test", fixtures::AUTHZ_DEFAULT, "--cases", &cases]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("is an export case (it has `service`), but the plugin is an authz plugin"),
        "{err}"
    );
}

#[test]
fn a_missing_file_exits_2() {
    let output = strait(&[
        "plugin",
        "test",
        fixtures::AUTHZ_DEFAULT,
        "--cases",
        "/nonexistent/cases.yaml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read cases file /nonexistent/cases.yaml"));
}
