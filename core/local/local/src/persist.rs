//! A cluster's directory: the user's YAML files and the state saved from
//! the running cluster, so nothing applied through `strait` is lost when
//! `local up` restarts, and nothing deleted comes back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, LINK_NAMESPACE};
use strait_store::MemoryStore;

use crate::error::LocalError;

/// Everything applied while running, saved after each change.
const STATE_FILE: &str = ".strait-state.yaml";
/// The digest of every user file as last loaded: a file that has not
/// changed since is not applied again over the saved state.
const SOURCES_FILE: &str = ".strait-sources.json";
/// Kinds the runtime recreates on every start (pods from Deployments,
/// endpoints from pods), so saving them would only restore stale copies.
const RUNTIME_KINDS: [&str; 4] = ["Pod", "EndpointSlice", "Endpoints", "Event"];
/// The field manager of the user's files, as `kubectl apply` would be.
pub(crate) const USER_MANAGER: &str = "kubectl";

/// What loading a directory did, for the start-up report.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Objects applied from the saved state.
    pub from_state: usize,
    /// Objects applied from user files new or changed since the last run.
    pub from_files: usize,
    /// Documents that could not be applied, each naming file and reason.
    pub errors: Vec<String>,
}

fn user_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
                && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Makes `store` check strait's custom resources against their schemas.
fn register_definitions(store: &MemoryStore) -> Result<(), LocalError> {
    let definitions = strait_api::custom_resource_definitions()
        .map_err(|e| LocalError::shared("building the CustomResourceDefinitions", e))?;
    for definition in &definitions {
        store
            .register_definition(definition)
            .map_err(|e| LocalError::shared("registering a CustomResourceDefinition", e))?;
    }
    Ok(())
}

/// The control plane's and the multicluster extension's namespaces, as an
/// installed cluster has them: the plugins ConfigMap and the destination's
/// copy of each Link's credentials go in the first, the Links with the
/// service mirrors' copy in the second, and a file applying them must find
/// both (`link-gen`'s output names only the second).
fn install_namespaces(store: &MemoryStore) -> Result<(), LocalError> {
    for namespace in [CONTROL_PLANE_NAMESPACE, LINK_NAMESPACE] {
        store
            .apply_json(
                serde_json::json!({
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": namespace},
                }),
                "strait-local",
            )
            .map_err(|e| LocalError::shared("creating the control plane's namespaces", e))?;
    }
    Ok(())
}

fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Loads `dir` into `store`: the saved state first, then every user file
/// that is new or changed since the last run (all of them on the first
/// run). Records the files' digests for the next start.
///
/// The store first learns strait's CustomResourceDefinitions and gets the
/// mesh's namespaces, as a cluster with strait installed has them, so a
/// custom resource the API server would refuse (a file's or one applied
/// later) is refused here too, and the Links' files find their namespaces.
pub fn load(store: &MemoryStore, dir: &Path) -> Result<Loaded, LocalError> {
    register_definitions(store)?;
    install_namespaces(store)?;
    let mut loaded = Loaded::default();
    let sources_path = dir.join(SOURCES_FILE);
    let known: BTreeMap<String, String> = std::fs::read_to_string(&sources_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    if let Ok(state) = std::fs::read_to_string(dir.join(STATE_FILE)) {
        let report = store.apply_yaml(STATE_FILE, &state, USER_MANAGER);
        loaded.from_state = report.applied;
        loaded.errors.extend(report.errors);
    }
    let files = user_files(dir).map_err(|source| LocalError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut seen = BTreeMap::new();
    let mut pending = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                loaded.errors.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        let hash = digest(&text);
        if known.get(&name) == Some(&hash) {
            seen.insert(name, hash);
        } else {
            pending.push((name, text, hash));
        }
    }
    // Files apply in name order, but one may need what a later one
    // defines (a namespace, say): a file that fails is tried again once
    // the others are in, and only its second failure is reported. A file
    // is recorded as loaded only when it applied cleanly, so a fixed
    // problem is retried on the next start.
    let mut failed = Vec::new();
    for (name, text, hash) in pending {
        let report = store.apply_yaml(&name, &text, USER_MANAGER);
        loaded.from_files += report.applied;
        if report.errors.is_empty() {
            seen.insert(name, hash);
        } else {
            failed.push((name, text, hash));
        }
    }
    for (name, text, hash) in failed {
        let report = store.apply_yaml(&name, &text, USER_MANAGER);
        if report.errors.is_empty() {
            seen.insert(name, hash);
        } else {
            loaded.errors.extend(report.errors);
        }
    }
    let text = serde_json::to_string_pretty(&seen)
        .map_err(|e| LocalError::shared("the digests of the loaded files", e))?;
    write_atomically(&sources_path, &text)?;
    Ok(loaded)
}

/// The state worth saving: every object except those the runtime
/// recreates, without status and server-managed metadata noise.
pub fn state_text(store: &MemoryStore) -> String {
    let mut text = String::new();
    for (_, object) in store.objects() {
        let kind = object["kind"].as_str().unwrap_or_default();
        if RUNTIME_KINDS.contains(&kind) {
            continue;
        }
        let mut object = (*object).clone();
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
        if let Some(meta) = object["metadata"].as_object_mut() {
            for field in ["managedFields", "uid", "resourceVersion", "generation"] {
                meta.remove(field);
            }
        }
        match serde_norway::to_string(&object) {
            Ok(yaml) => {
                text.push_str("---\n");
                text.push_str(&yaml);
            }
            Err(e) => tracing::warn!(kind, error = %e, "object not saved"),
        }
    }
    text
}

/// Saves `text` as the state of `dir`.
pub fn save(dir: &Path, text: &str) -> Result<(), LocalError> {
    write_atomically(&dir.join(STATE_FILE), text)
}

fn write_atomically(path: &Path, text: &str) -> Result<(), LocalError> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|source| LocalError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests;
