//! `strait crds`: the CustomResourceDefinitions strait reads and writes, to
//! install before the control plane (`strait crds | kubectl apply -f -`).
//!
//! The output is checked in as `deploy/crds/crds.yaml`; a test fails when
//! the two differ.

use std::process::ExitCode;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// Prints the definitions, or the reason they could not be made.
pub fn run() -> ExitCode {
    match render() {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// All definitions as one multi-document YAML stream, each document opened
/// by `---`, in the order the api crate gives them.
fn render() -> Result<String, String> {
    let crds = strait_api::custom_resource_definitions()
        .map_err(|e| format!("building the CustomResourceDefinitions: {e}"))?;
    crds.iter().map(document).collect()
}

fn document(crd: &CustomResourceDefinition) -> Result<String, String> {
    let name = crd
        .metadata
        .name
        .as_deref()
        .unwrap_or("a CustomResourceDefinition");
    let yaml = serde_norway::to_string(crd).map_err(|e| format!("writing {name}: {e}"))?;
    Ok(format!("---\n{yaml}"))
}
