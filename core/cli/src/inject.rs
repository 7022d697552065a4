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
}

/// Injects every input and prints the result, or the first fault.
pub fn run(args: InjectArgs) -> ExitCode {
    let mut options = InjectOptions::default();
    if let Some(image) = args.image {
        options.image = image;
    }
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
