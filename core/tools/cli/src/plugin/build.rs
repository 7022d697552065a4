//! `strait plugin build`: compiles a plugin crate for `wasm32-wasip2` with the
//! user's own cargo, validates the component as the mesh would, and prints
//! its path, so that `strait plugin push --kind authz $(strait plugin build)`
//! goes from source to a running mesh in one line.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use strait_plugin_host::{PluginError, PluginKind, PluginSource, VersionInfo};

/// The target every plugin is built for: components with WASI preview 2.
pub const TARGET: &str = "wasm32-wasip2";

/// Runs the build in `dir` and reports on stderr; prints only the
/// component's path on stdout.
pub fn build(dir: &Path, kind: Option<PluginKind>) -> ExitCode {
    match run(dir, kind) {
        Ok((path, info)) => {
            eprintln!(
                "ok {} plugin {} (sha256 {})",
                info.kind,
                path.display(),
                info.digest
            );
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: &Path, kind: Option<PluginKind>) -> Result<(PathBuf, VersionInfo), String> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(format!(
            "{} has no Cargo.toml: run `strait plugin build` inside a plugin crate, or pass \
             --path (`strait plugin new` creates one)",
            dir.display()
        ));
    }
    let manifest = manifest
        .canonicalize()
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    let component = cargo_build(dir, &manifest)?;
    let info = validate(&component, kind).map_err(|e| e.to_string())?;
    Ok((component, info))
}

/// `cargo build --release --target wasm32-wasip2` in `dir`, with cargo's own
/// messages on stderr as the user would see them; the component it produced
/// for the crate of `manifest`.
fn cargo_build(dir: &Path, manifest: &Path) -> Result<PathBuf, String> {
    // The `cargo` on PATH, not the one that may have started us: through
    // rustup it honours the crate's rust-toolchain.toml.
    let mut child = Command::new("cargo")
        .current_dir(dir)
        .args(["build", "--release", "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo ({e}): install Rust (rustup) to build plugins"))?;
    // Cargo's progress and errors pass through as they come; what it said is
    // kept to add a hint when the target is missing.
    let stderr = child.stderr.take();
    let relay = std::thread::spawn(move || {
        let mut seen = String::new();
        if let Some(stderr) = stderr {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                seen.push_str(&line);
                seen.push('\n');
            }
        }
        seen
    });
    let mut messages = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_string(&mut messages)
            .map_err(|e| format!("reading cargo's output: {e}"))?;
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    let said = relay.join().unwrap_or_default();
    if !status.success() {
        let hint = if said.contains("may not be installed")
            || said.contains("can't find crate for `core`")
            || said.contains("can't find crate for `std`")
        {
            format!("; the {TARGET} target is missing: `rustup target add {TARGET}`")
        } else {
            String::new()
        };
        return Err(format!("cargo build failed ({status}){hint}"));
    }
    component_of(&messages, manifest).ok_or_else(|| {
        format!(
            "cargo built {} but produced no .wasm component for it: its [lib] needs \
             crate-type = [\"cdylib\"]",
            manifest.display()
        )
    })
}

/// The `.wasm` file of the cdylib that cargo reported for the package of
/// `manifest`, from the JSON messages of `--message-format=json`. Cargo's
/// report already accounts for `CARGO_TARGET_DIR`, `build.target-dir` and the
/// library's name.
pub(crate) fn component_of(messages: &str, manifest: &Path) -> Option<PathBuf> {
    let mut found = None;
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        if message["manifest_path"].as_str().map(Path::new) != Some(manifest) {
            continue;
        }
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if !is_cdylib {
            continue;
        }
        let wasm = message["filenames"].as_array().and_then(|files| {
            files
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".wasm"))
        });
        if let Some(wasm) = wasm {
            found = Some(PathBuf::from(wasm));
        }
    }
    found
}

/// Validates the component as `strait plugin check` does: as `kind`, or,
/// without one, as whichever world it implements.
pub(crate) fn validate(
    component: &Path,
    kind: Option<PluginKind>,
) -> Result<VersionInfo, PluginError> {
    let plugin = PluginSource::File(component).read()?;
    let host = super::host()?;
    match kind {
        Some(kind) => host.check(kind, &plugin),
        None => match host.check(PluginKind::Authz, &plugin) {
            Err(PluginError::WrongWorld { .. }) => match host.check(PluginKind::Export, &plugin) {
                Err(PluginError::WrongWorld { origin, .. }) => Err(PluginError::WrongWorld {
                    origin,
                    kind: PluginKind::Authz,
                    reason: format!(
                        "it implements neither {} nor {}",
                        PluginKind::Authz.world(),
                        PluginKind::Export.world()
                    ),
                }),
                other => other,
            },
            other => other,
        },
    }
}

#[cfg(test)]
mod tests;
