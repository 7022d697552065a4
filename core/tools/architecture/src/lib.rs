//! The dependency rules of `ARCHITECTURE.md`, checked against what cargo
//! resolves rather than against what the code happens to import today.
//!
//! Two views of the workspace, each from cargo itself:
//!
//! - [`Workspace`]: every member crate, the layer its folder puts it in
//!   (`core/<layer>/<crate>`, `plugins/...` for the Wasm guests) and the
//!   strait crates its `Cargo.toml` declares, from `cargo metadata
//!   --no-deps`. The layer rule is about these declared edges: the folder
//!   tree and the manifests must tell the same story.
//! - [`Tree`]: everything one crate's build compiles, as `cargo tree -p`
//!   resolves it for that crate alone (its own features, not the whole
//!   workspace's), with the path of crates that leads to each. A rule such
//!   as "the proxy never reaches the control plane" is about this closure:
//!   a crate pulled in three levels down is as much in the sidecar as one
//!   named in its manifest.
//!
//! Both read cargo offline first, so a built workspace needs no network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Why the workspace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchitectureError {
    /// Cargo could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Cargo ran and failed, online as well as offline.
    #[error("`{command}` failed: {stderr}")]
    Cargo {
        /// The command line.
        command: String,
        /// What cargo printed on stderr.
        stderr: String,
    },
    /// `cargo metadata` printed something that is not its JSON.
    #[error("`cargo metadata` output: {0}")]
    Metadata(String),
    /// A crate that is not a member of the workspace was asked about.
    #[error("{0} is not a member of the workspace")]
    NotAMember(String),
}

/// One member crate of the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its package name (`strait-proxy`).
    pub name: String,
    /// Its layer: the folder under `core/` it lives in (`proxy`), or
    /// `guest` for the Wasm plugins under `plugins/`.
    pub layer: String,
    /// The workspace crates its manifest declares as normal or build
    /// dependencies (what its own build compiles).
    pub depends_on: Vec<String>,
    /// The workspace crates it declares only as dev-dependencies.
    pub dev_depends_on: Vec<String>,
    /// Its folder, relative to the workspace root (`core/proxy/io`).
    pub path: String,
}

/// The members of a workspace, by name.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// Every member, by package name.
    pub members: BTreeMap<String, Member>,
    root: PathBuf,
}

impl Workspace {
    /// Reads the members of the workspace whose root manifest is in `root`.
    pub fn load(root: &Path) -> Result<Workspace, ArchitectureError> {
        let output = cargo(root, &["metadata", "--format-version", "1", "--no-deps"])?;
        let metadata: Value = serde_json::from_slice(&output)
            .map_err(|e| ArchitectureError::Metadata(e.to_string()))?;
        let mut workspace = Workspace::from_metadata(&metadata)?;
        workspace.root = root.to_path_buf();
        Ok(workspace)
    }

    /// Builds the members from `cargo metadata --no-deps` JSON.
    pub fn from_metadata(metadata: &Value) -> Result<Workspace, ArchitectureError> {
        let root = metadata["workspace_root"]
            .as_str()
            .ok_or_else(|| ArchitectureError::Metadata("no workspace_root".into()))?;
        let packages = metadata["packages"]
            .as_array()
            .ok_or_else(|| ArchitectureError::Metadata("no packages".into()))?;
        let names: Vec<String> = packages
            .iter()
            .filter_map(|p| p["name"].as_str().map(String::from))
            .collect();
        let mut members = BTreeMap::new();
        for package in packages {
            let name = package["name"].as_str().unwrap_or_default().to_string();
            let manifest = package["manifest_path"].as_str().unwrap_or_default();
            let relative = Path::new(manifest)
                .strip_prefix(root)
                .unwrap_or(Path::new(manifest));
            let mut depends_on = Vec::new();
            let mut dev_depends_on = Vec::new();
            for dep in package["dependencies"].as_array().into_iter().flatten() {
                let Some(dep_name) = dep["name"].as_str() else {
                    continue;
                };
                if !names.iter().any(|n| n == dep_name) {
                    continue;
                }
                let target = if dep["kind"].as_str() == Some("dev") {
                    &mut dev_depends_on
                } else {
                    &mut depends_on
                };
                if !target.iter().any(|d| d == dep_name) {
                    target.push(dep_name.to_string());
                }
            }
            // A crate that is both a normal and a dev-dependency is a
            // normal one.
            dev_depends_on.retain(|d| !depends_on.contains(d));
            members.insert(
                name.clone(),
                Member {
                    name,
                    layer: layer_of(relative),
                    depends_on,
                    dev_depends_on,
                    path: relative
                        .parent()
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                },
            );
        }
        Ok(Workspace {
            members,
            root: PathBuf::from(root),
        })
    }

    /// The members of `layer`.
    pub fn layer<'a>(&'a self, layer: &'a str) -> impl Iterator<Item = &'a Member> + 'a {
        self.members.values().filter(move |m| m.layer == layer)
    }

    /// Every declared dependency that leaves the layers `allowed` lets a
    /// layer use, as `crate (layer) -> dependency (layer)`. Crates in
    /// `test_only` may depend on anything, each other included (they exist
    /// to run the layers together), but no other crate may depend on them
    /// outside its tests.
    pub fn layer_violations(&self, allowed: &[(&str, &[&str])], test_only: &[&str]) -> Vec<String> {
        let mut violations = Vec::new();
        for member in self.members.values() {
            let Some((_, may_use)) = allowed.iter().find(|(layer, _)| *layer == member.layer)
            else {
                violations.push(format!(
                    "{} is in layer {:?}, which has no rule",
                    member.name, member.layer
                ));
                continue;
            };
            if test_only.contains(&member.name.as_str()) {
                continue;
            }
            for dep in &member.depends_on {
                if test_only.contains(&dep.as_str()) {
                    violations.push(format!(
                        "{} -> {dep}: a test-only crate, allowed as a dev-dependency only",
                        member.name
                    ));
                    continue;
                }
                let dep_layer = &self.members[dep].layer;
                if !may_use.contains(&dep_layer.as_str()) {
                    violations.push(format!(
                        "{} ({}) -> {dep} ({dep_layer})",
                        member.name, member.layer
                    ));
                }
            }
        }
        violations
    }

    /// What `root`'s build compiles, resolved for it alone.
    pub fn tree(&self, root: &str, edges: Edges) -> Result<Tree, ArchitectureError> {
        if !self.members.contains_key(root) {
            return Err(ArchitectureError::NotAMember(root.to_string()));
        }
        let kinds = match edges {
            Edges::Build => "normal,build",
            Edges::WithDev => "normal,build,dev",
        };
        let output = cargo(
            &self.root,
            &[
                "tree",
                "-p",
                root,
                "-e",
                kinds,
                "--prefix",
                "depth",
                "--charset",
                "ascii",
            ],
        )?;
        Ok(Tree::parse(&String::from_utf8_lossy(&output)))
    }
}

/// Which dependencies of a crate count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edges {
    /// Normal and build dependencies: what the crate's own build compiles.
    Build,
    /// Those and the crate's own dev-dependencies: what its tests compile
    /// (cargo builds a dev-dependency only for the crate that declares it).
    WithDev,
}

/// Everything one crate compiles, each crate with the path that first
/// reaches it from the root (`strait-proxy -> strait-policy-server ->
/// strait-store`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    /// Crate name to the path of names from the root to it.
    pub paths: BTreeMap<String, Vec<String>>,
}

impl Tree {
    /// Parses `cargo tree --prefix depth` output (`0strait-proxy v0.1.0
    /// (/path)`, `1strait-io v0.1.0 (/path)`, ...).
    pub fn parse(text: &str) -> Tree {
        let mut stack: Vec<String> = Vec::new();
        let mut paths = BTreeMap::new();
        for line in text.lines() {
            let digits = line.chars().take_while(char::is_ascii_digit).count();
            let Ok(depth) = line[..digits].parse::<usize>() else {
                continue;
            };
            let Some(name) = line[digits..].split_whitespace().next() else {
                continue;
            };
            stack.truncate(depth);
            stack.push(name.to_string());
            paths
                .entry(name.to_string())
                .or_insert_with(|| stack.clone());
        }
        Tree { paths }
    }

    /// The paths to every crate for which `forbidden` holds, joined with
    /// ` -> `, shortest first.
    pub fn paths_to(&self, forbidden: impl Fn(&str) -> bool) -> Vec<String> {
        let mut found: Vec<&Vec<String>> = self
            .paths
            .iter()
            .filter(|(name, _)| forbidden(name))
            .map(|(_, path)| path)
            .collect();
        found.sort_by_key(|path| path.len());
        found.into_iter().map(|path| path.join(" -> ")).collect()
    }
}

/// The layer table of ARCHITECTURE.md: each row's layer and the layers it
/// may depend on (`| proxy | ... | model, common, plugins, proxy |`), so
/// the page and the check are one fact.
pub fn layer_table(markdown: &str) -> Vec<(String, Vec<String>)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in markdown.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.first() == Some(&"layer") && cells.last() == Some(&"may depend on") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        if !line.trim_start().starts_with('|') {
            break;
        }
        if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
            continue;
        }
        if let (Some(layer), Some(allowed)) = (cells.first(), cells.last()) {
            let allowed = allowed.split(',').map(|l| l.trim().to_string()).collect();
            rows.push((layer.to_string(), allowed));
        }
    }
    rows
}

/// The crate map of ARCHITECTURE.md: every `` - `path` (name): ... `` line,
/// as (path, name).
pub fn crate_map(markdown: &str) -> Vec<(String, String)> {
    markdown
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("- `")?;
            let (path, rest) = rest.split_once("` (")?;
            let (name, _) = rest.split_once(')')?;
            let name = name.split(',').next()?.trim();
            Some((path.to_string(), name.to_string()))
        })
        .collect()
}

/// The layer of the crate whose manifest is at `relative` (to the
/// workspace root): `core/<layer>/<crate>/Cargo.toml`, or `guest` under
/// `plugins/`.
fn layer_of(relative: &Path) -> String {
    let parts: Vec<_> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [core, layer, _crate, _manifest] if core == "core" => layer.clone(),
        [plugins, ..] if plugins == "plugins" => "guest".to_string(),
        _ => "root".to_string(),
    }
}

/// Runs cargo in `dir` offline, and online when offline fails (a registry
/// index not yet cached), returning its stdout.
fn cargo(dir: &Path, args: &[&str]) -> Result<Vec<u8>, ArchitectureError> {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let command_line = format!("cargo {}", args.join(" "));
    let run = |offline: bool| {
        let mut command = Command::new(&program);
        command.current_dir(dir).args(args);
        if offline {
            command.arg("--offline");
        }
        command.output().map_err(|source| ArchitectureError::Spawn {
            command: command_line.clone(),
            source,
        })
    };
    let mut output = run(true)?;
    if !output.status.success() {
        output = run(false)?;
    }
    if !output.status.success() {
        return Err(ArchitectureError::Cargo {
            command: command_line,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests;
