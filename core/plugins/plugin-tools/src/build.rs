//! `strait plugin build`: compiles a plugin crate for `wasm32-wasip2` with the
//! user's own cargo and validates the component as the mesh would, so that
//! `strait plugin push --kind authz $(strait plugin build)` goes from source
//! to a running mesh in one line.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use strait_plugin_host::{PluginKind, PluginSource, VersionInfo};

use crate::ToolError;

/// The target every plugin is built for: components with WASI preview 2.
pub const TARGET: &str = "wasm32-wasip2";

/// Builds the crate in `dir` (cargo's messages pass through to stderr, as
/// the user would see them) and validates its component as `kind`, or as
/// the world it implements; the component's path and what the check found.
pub fn build(dir: &Path, kind: Option<PluginKind>) -> Result<(PathBuf, VersionInfo), ToolError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(ToolError::NotACrate {
            dir: dir.to_path_buf(),
        });
    }
    let manifest = manifest
        .canonicalize()
        .map_err(|e| ToolError::io("read", &manifest, e))?;
    let component = cargo_build(dir, &manifest)?;
    let plugin = PluginSource::File(&component).read()?;
    let info = crate::validate(&plugin, kind)?;
    Ok((component, info))
}

/// `cargo build --release --target wasm32-wasip2` in `dir`, with cargo's own
/// messages on stderr as the user would see them; the component it produced
/// for the crate of `manifest`.
fn cargo_build(dir: &Path, manifest: &Path) -> Result<PathBuf, ToolError> {
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
        .map_err(|source| ToolError::NoCargo { source })?;
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
            .map_err(|e| ToolError::io("read", Path::new("cargo's output"), e))?;
    }
    let status = child
        .wait()
        .map_err(|source| ToolError::NoCargo { source })?;
    let said = relay.join().unwrap_or_default();
    if !status.success() {
        let missing_target = said.contains("may not be installed")
            || said.contains("can't find crate for `core`")
            || said.contains("can't find crate for `std`");
        return Err(ToolError::BuildFailed {
            status,
            missing_target,
        });
    }
    component_of(&messages, manifest).ok_or_else(|| ToolError::NoComponent {
        manifest: manifest.to_path_buf(),
    })
}

/// The `.wasm` file of the cdylib that cargo reported for the package of
/// `manifest`, from the JSON messages of `--message-format=json`. Cargo's
/// report already accounts for `CARGO_TARGET_DIR`, `build.target-dir` and the
/// library's name.
pub fn component_of(messages: &str, manifest: &Path) -> Option<PathBuf> {
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

#[cfg(test)]
mod tests;
