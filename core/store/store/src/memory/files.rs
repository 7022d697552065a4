//! Loading a cluster from a directory of YAML files (multi-document, the
//! guide's manifests verbatim) and saving it back, so nothing applied is lost
//! on restart.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::MemoryStore;
use crate::error::StoreError;

/// What a load did: objects applied, and every document that was not, with
/// the file and document number and why.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Objects applied.
    pub applied: usize,
    /// Documents skipped, each naming its file, document number and fault.
    pub errors: Vec<String>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} objects applied", self.applied)?;
        for error in &self.errors {
            write!(f, "\n  skipped: {error}")?;
        }
        Ok(())
    }
}

/// The file that holds saved state, inside the cluster's directory.
const STATE_FILE: &str = ".strait-state.yaml";

impl MemoryStore {
    /// Applies every object of a multi-document YAML text as `field_manager`.
    /// Namespaces go first, so a file may define a namespace after its
    /// contents. Bad documents are reported and skipped; the rest apply.
    pub fn apply_yaml(&self, origin: &str, text: &str, field_manager: &str) -> LoadReport {
        self.load_documents(origin, text, field_manager, true)
    }

    fn load_documents(
        &self,
        origin: &str,
        text: &str,
        manager: &str,
        strip_status: bool,
    ) -> LoadReport {
        let mut report = LoadReport::default();
        let mut docs: Vec<(usize, Value)> = Vec::new();
        for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
            let number = index + 1;
            match Value::deserialize(document) {
                Ok(Value::Null) => {}
                Ok(value @ Value::Object(_)) => docs.push((number, value)),
                Ok(_) => report.errors.push(format!(
                    "{origin} document {number}: not a Kubernetes object"
                )),
                Err(err) => {
                    report
                        .errors
                        .push(format!("{origin} document {number}: invalid YAML: {err}"));
                    // The parser cannot resynchronize after a syntax error.
                    break;
                }
            }
        }
        docs.sort_by_key(|(_, v)| v["kind"].as_str() != Some("Namespace"));
        for (number, value) in docs {
            let items = match value["kind"].as_str() {
                Some(kind) if kind.ends_with("List") => {
                    value["items"].as_array().cloned().unwrap_or_default()
                }
                _ => vec![value],
            };
            for item in items {
                match self.apply_value(item, manager, strip_status) {
                    Ok(_) => report.applied += 1,
                    Err(err) => report
                        .errors
                        .push(format!("{origin} document {number}: {err}")),
                }
            }
        }
        report
    }

    /// Loads every `.yaml`/`.yml` file of `dir` (sorted by name), then the
    /// state saved there by [`MemoryStore::save_dir`], which wins.
    pub fn load_dir(&self, dir: &Path, field_manager: &str) -> Result<LoadReport, StoreError> {
        let unavailable = |e: std::io::Error| StoreError::Unavailable {
            reason: format!("cannot read {}: {e}", dir.display()),
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(unavailable)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name().and_then(|n| n.to_str()) != Some(STATE_FILE)
                    && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            })
            .collect();
        files.sort();
        let mut report = LoadReport::default();
        for file in files.iter().chain(std::iter::once(&dir.join(STATE_FILE))) {
            let saved = file.ends_with(STATE_FILE);
            let text = match std::fs::read_to_string(file) {
                Ok(text) => text,
                Err(_) if saved => continue,
                Err(e) => {
                    report.errors.push(format!("{}: {e}", file.display()));
                    continue;
                }
            };
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let part = self.load_documents(&name, &text, field_manager, !saved);
            report.applied += part.applied;
            report.errors.extend(part.errors);
        }
        Ok(report)
    }

    /// Writes every object (with status) to the state file of `dir`,
    /// atomically (a temporary file renamed over the old one).
    pub fn save_dir(&self, dir: &Path) -> Result<(), StoreError> {
        let mut text = String::new();
        for (_, object) in self.objects() {
            let yaml = serde_norway::to_string(&*object).map_err(|e| StoreError::Invalid {
                what: super::describe(&object),
                reason: e.to_string(),
            })?;
            text.push_str("---\n");
            text.push_str(&yaml);
        }
        let unavailable = |e: std::io::Error| StoreError::Unavailable {
            reason: format!("cannot write {}: {e}", dir.display()),
        };
        let temporary = dir.join(format!("{STATE_FILE}.tmp"));
        std::fs::write(&temporary, text).map_err(unavailable)?;
        std::fs::rename(&temporary, dir.join(STATE_FILE)).map_err(unavailable)
    }
}
