//! `strait apply -f FILE|DIR|-`: objects from YAML or JSON into a local
//! cluster, reported line by line as kubectl reports them
//! (`service/bb created`, `deployment.apps/bb configured`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use strait_local_api::LocalClient;
use strait_local_api::wire::AppliedObject;

use super::{describe_error, object_name};
use crate::context::{Scope, run_local};

/// `apply`'s arguments.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// A file, a directory (its *.yaml, *.yml and *.json files, in name
    /// order) or `-` for standard input; repeatable.
    #[arg(long = "filename", short = 'f', required = true)]
    files: Vec<String>,
}

/// Applies every source in order; a failing source is reported and the
/// others still apply, and the exit code is then 1, as with kubectl.
pub fn run(scope: &Scope, args: ApplyArgs) -> ExitCode {
    let sources = match read_sources(&args.files) {
        Ok(sources) => sources,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    run_local(scope, "apply", |client| {
        apply(client, scope.namespace.clone(), sources)
    })
}

async fn apply(client: LocalClient, namespace: Option<String>, sources: Vec<Source>) -> ExitCode {
    let mut failed = false;
    for source in sources {
        match client.apply(&source.text, namespace.as_deref()).await {
            Ok(response) => print_results(&response.results),
            Err(err) => {
                print_results(err.applied());
                failed = true;
                let message = describe_error(&err);
                eprintln!("{message} (applying {:?})", source.name);
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_results(results: &[AppliedObject]) {
    for result in results {
        println!("{} {}", object_name(&result.object), result.outcome);
    }
}

/// One input: its name for messages and its text.
struct Source {
    name: String,
    text: String,
}

/// Reads every `-f` before anything is applied, so a missing file fails the
/// command without a partial apply.
fn read_sources(files: &[String]) -> Result<Vec<Source>, String> {
    let mut sources = Vec::new();
    for file in files {
        if file == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("reading standard input: {e}"))?;
            sources.push(Source {
                name: "STDIN".into(),
                text,
            });
            continue;
        }
        let path = Path::new(file);
        let paths = if path.is_dir() {
            manifests_in(path)?
        } else {
            vec![path.to_path_buf()]
        };
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "the path {:?} cannot be read: {e}",
                    path.display().to_string()
                )
            })?;
            sources.push(Source {
                name: path.display().to_string(),
                text,
            });
        }
    }
    Ok(sources)
}

/// The manifests of a directory, in name order.
fn manifests_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "the directory {:?} cannot be read: {e}",
            dir.display().to_string()
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    paths.sort();
    Ok(paths)
}
