//! `strait crds` as a user runs it, and the copy checked in under
//! `deploy/crds/`.

use std::path::Path;
use std::process::Command;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

const CHECKED_IN: &str = "deploy/crds/crds.yaml";
const REGENERATE: &str = "cargo run -q -p strait-cli -- crds > deploy/crds/crds.yaml";

fn strait_crds() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_strait"))
        .arg("crds")
        .output()
        .expect("strait runs");
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty());
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn the_checked_in_definitions_are_current() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let checked_in = std::fs::read_to_string(workspace.join(CHECKED_IN))
        .unwrap_or_else(|e| panic!("{CHECKED_IN}: {e}; create it with `{REGENERATE}`"));
    assert!(
        checked_in == strait_crds(),
        "{CHECKED_IN} does not match `strait crds`. From the workspace root, \
         regenerate it with `{REGENERATE}` and commit the result."
    );
}

#[test]
fn the_output_is_one_definition_per_document() {
    let output = strait_crds();
    assert!(output.starts_with("---\n"), "each document opens with ---");
    // A line that is exactly `---` can only be a document marker in YAML.
    let documents = format!("\n{output}");
    let names: Vec<String> = documents
        .split("\n---\n")
        .skip(1)
        .map(|document| {
            let crd: CustomResourceDefinition =
                serde_norway::from_str(document).expect("a CustomResourceDefinition");
            crd.metadata.name.expect("a name")
        })
        .collect();
    assert_eq!(
        names,
        [
            "links.multicluster.linkerd.io",
            "servers.policy.linkerd.io",
            "serverauthorizations.policy.linkerd.io",
            "authorizationpolicies.policy.linkerd.io",
            "meshtlsauthentications.policy.linkerd.io",
            "networkauthentications.policy.linkerd.io",
            "httproutes.policy.linkerd.io",
            "httproutes.gateway.networking.k8s.io",
        ]
    );
}
