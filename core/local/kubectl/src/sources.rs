//! The `-f` sources of `apply` and `delete`: files, directories (their
//! *.yaml, *.yml and *.json files, in name order) and `-` for standard
//! input, all read before anything is sent so that a missing file fails the
//! command without a partial change.

use std::io::Read;
use std::path::{Path, PathBuf};

/// One input: its name for messages and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as given or found in a directory, or `STDIN`.
    pub name: String,
    /// The manifest text.
    pub text: String,
}

/// A source that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Standard input failed.
    #[error("reading standard input: {0}")]
    Stdin(#[source] std::io::Error),
    /// A directory named by `-f` could not be listed.
    #[error("the directory {dir:?} cannot be read: {source}")]
    Directory {
        /// The directory.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("the path {path:?} cannot be read: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Every source of `files`, in order.
pub fn read_sources(files: &[String]) -> Result<Vec<Source>, SourceError> {
    let mut sources = Vec::new();
    for file in files {
        if file == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(SourceError::Stdin)?;
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
            let name = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push(Source { name, text }),
                Err(source) => return Err(SourceError::File { path: name, source }),
            }
        }
    }
    Ok(sources)
}

/// The manifests of a directory, in name order.
fn manifests_in(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Directory {
        dir: dir.display().to_string(),
        source,
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
