//! `strait inject`: adds the proxy to the workloads of manifests, as
//! `linkerd inject` does, for `... | strait inject - | kubectl apply -f -`.
//!
//! The injected manifests go to stdout and the per-object report to
//! stderr; when any input fails, nothing is written to stdout, so a pipe
//! into `kubectl apply` applies nothing half-done.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use strait_inject::{InjectOptions, inject, render_reports};
use strait_multicluster::Cluster as _;

use crate::context::Scope;

/// Arguments of `strait inject`.
#[derive(clap::Args)]
pub struct InjectArgs {
    /// Files or directories (their *.yaml, *.yml and *.json files, sorted)
    /// to inject; `-` or nothing reads standard input.
    files: Vec<PathBuf>,
    /// The image of the proxy and init containers, instead of this
    /// build's.
    #[arg(long)]
    image: Option<String>,
    /// The mesh's trust anchors (the PEM file given to `strait install`),
    /// instead of those of the cluster `--context` names.
    #[arg(long)]
    identity_trust_anchors_file: Option<PathBuf>,
    /// The identity trust domain, instead of the cluster's.
    #[arg(long)]
    identity_trust_domain: Option<String>,
    /// The cluster's DNS domain, instead of the cluster's.
    #[arg(long)]
    cluster_domain: Option<String>,
    /// Read nothing from a cluster, as `linkerd inject --ignore-cluster`:
    /// the trust anchors must then come from --identity-trust-anchors-file,
    /// and the domains default to `cluster.local`.
    #[arg(long)]
    ignore_cluster: bool,
}

/// Injects every input and prints the result, or the first fault.
pub fn run(scope: &Scope, args: InjectArgs) -> ExitCode {
    let options = match options(scope, &args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match inject_all(&args.files, &options) {
        Ok((output, report)) => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout
                .write_all(output.as_bytes())
                .and_then(|()| stdout.flush())
            {
                eprintln!("Error printing YAML: {e}");
                return ExitCode::FAILURE;
            }
            eprint!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error transforming resources:\n{e}");
            ExitCode::FAILURE
        }
    }
}

/// What the proxy must be told about the mesh: its trust anchors above
/// all (a proxy trusts nothing else), read from the file given or from the
/// cluster (`linkerd-config` and the trust-roots ConfigMap), flags first.
fn options(scope: &Scope, args: &InjectArgs) -> Result<InjectOptions, String> {
    let from_file = match &args.identity_trust_anchors_file {
        Some(path) => Some(read_anchors(path)?),
        None => None,
    };
    let facts = if args.ignore_cluster {
        None
    } else {
        let facts = crate::context::block_on_result(async {
            let cluster = strait_multicluster::connect(scope.context.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            cluster.facts().await.map_err(|e| e.to_string())
        })
        .map_err(|e| {
            format!(
                "reading the mesh's trust anchors and domains from the cluster: {e}\n\
                 (to inject without a cluster: --ignore-cluster --identity-trust-anchors-file FILE)"
            )
        })?;
        Some(facts)
    };
    let anchors = match (from_file, &facts) {
        (Some(pem), _) => pem,
        (None, Some(facts)) if !facts.trust_anchors_pem.trim().is_empty() => {
            facts.trust_anchors_pem.clone()
        }
        (None, Some(_)) => {
            return Err(
                "the cluster's trust anchors cannot be read (ConfigMap linkerd-identity-trust-roots in linkerd): pass --identity-trust-anchors-file"
                    .into(),
            );
        }
        (None, None) => {
            return Err(
                "--ignore-cluster needs --identity-trust-anchors-file: an injected proxy trusts only the mesh's anchors"
                    .into(),
            );
        }
    };
    let mut options = InjectOptions::new(anchors);
    if let Some(facts) = facts {
        options.trust_domain = facts.trust_domain;
        options.cluster_domain = facts.cluster_domain;
    }
    if let Some(image) = &args.image {
        options.image = image.clone();
    }
    if let Some(domain) = &args.identity_trust_domain {
        options.trust_domain = domain.clone();
    }
    if let Some(domain) = &args.cluster_domain {
        options.cluster_domain = domain.clone();
    }
    Ok(options)
}

/// The PEM trust anchors in `path`: at least one certificate, else an
/// error naming the file.
fn read_anchors(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--identity-trust-anchors-file {}: {e}", path.display()))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!(
            "--identity-trust-anchors-file {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(text)
}

/// The injected stream of all inputs and the report over all of them.
fn inject_all(files: &[PathBuf], options: &InjectOptions) -> Result<(String, String), String> {
    let mut output = String::new();
    let mut reports = Vec::new();
    for (name, text) in read_inputs(files)? {
        let injected = inject(&text, &name, options).map_err(|e| e.to_string())?;
        output.push_str(&injected.output);
        reports.extend(injected.reports);
    }
    Ok((output, render_reports(&reports)))
}

/// Each input's name (as errors show it) and text.
fn read_inputs(files: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    let stdin = || {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading standard input: {e}"))?;
        Ok::<_, String>(("stdin".to_string(), text))
    };
    if files.is_empty() {
        return Ok(vec![stdin()?]);
    }
    let mut inputs = Vec::new();
    for path in files {
        if path.as_os_str() == "-" {
            inputs.push(stdin()?);
        } else if path.is_dir() {
            for file in manifests_in(path)? {
                inputs.push(read_file(&file)?);
            }
        } else {
            inputs.push(read_file(path)?);
        }
    }
    Ok(inputs)
}

fn read_file(path: &Path) -> Result<(String, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path.display().to_string(), text))
}

/// A directory's manifests, by name.
fn manifests_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let manifest = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if manifest && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
