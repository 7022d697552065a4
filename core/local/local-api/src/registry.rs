//! The registry of local contexts: which clusters a running `strait local up`
//! serves, and where, so that `strait --context east` finds them.
//!
//! One JSON file, `$STRAIT_HOME/local-contexts.json` (`STRAIT_HOME`
//! defaulting to `$HOME/.strait`):
//! `{"contexts": {"east": {"api": "http://127.0.0.1:PORT", "dir": "/abs/east", "pid": 1234,
//! "token_file": "/abs/.strait/local-api-1234-PORT.token"}}}`.
//! Entries whose process is gone are ignored when read and dropped when the
//! file is next written, so a `local up` that was killed leaves nothing
//! behind that matters.
//!
//! The registry names the token file rather than holding the token: the
//! registry is there for anyone to read, the token only for its owner
//! (see [`crate::ApiToken`]).

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::token::{ApiToken, TokenError};

/// The file's name inside `STRAIT_HOME`.
const FILE_NAME: &str = "local-contexts.json";

/// The scheme of the server URL in a local cluster's kubeconfig, as
/// `multicluster link-gen` writes it: `strait-local://<cluster>` names a
/// cluster of this registry, wherever its API listens now.
pub const LOCAL_SCHEME: &str = "strait-local://";

/// One cluster of a running `strait local up`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalContext {
    /// Base URL of its API, e.g. `http://127.0.0.1:40123`.
    pub api: String,
    /// The cluster's directory of YAML files.
    pub dir: PathBuf,
    /// The process serving it; the entry counts only while it is alive.
    pub pid: u32,
    /// The file holding the API token of the run that serves it (mode
    /// 0600). Absent only in entries written before API tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
}

impl LocalContext {
    /// The API token of the run serving context `name` (this entry), read
    /// from its token file.
    pub fn token(&self, name: &str) -> Result<ApiToken, TokenError> {
        match &self.token_file {
            Some(path) => ApiToken::read_file(path),
            None => Err(TokenError::NotRecorded {
                context: name.to_string(),
            }),
        }
    }
}

/// The file's content.
#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    contexts: BTreeMap<String, LocalContext>,
}

/// Reading or writing the registry failed; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Neither `STRAIT_HOME` nor `HOME` is set, so there is no file to use.
    #[error("cannot locate the local contexts file: set STRAIT_HOME or HOME")]
    NoHome,
    /// The file or its directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not the registry's JSON.
    #[error("{path}: not a local contexts file: {reason}")]
    Malformed {
        /// The file concerned.
        path: PathBuf,
        /// What did not parse.
        reason: String,
    },
    /// Another running process already serves a context of that name.
    #[error("{path}: context {name:?} is already served by process {pid} at {api}; stop it first")]
    InUse {
        /// The file concerned.
        path: PathBuf,
        /// The context.
        name: String,
        /// The process serving it.
        pid: u32,
        /// Its API.
        api: String,
    },
}

/// The registry file. Held by path so that tests and tools can point at
/// their own file; [`Registry::from_env`] finds the user's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    path: PathBuf,
}

impl Registry {
    /// The registry in `STRAIT_HOME` (or `$HOME/.strait`).
    pub fn from_env() -> Result<Self, RegistryError> {
        let home = match std::env::var_os("STRAIT_HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home),
            None => std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".strait"))
                .ok_or(RegistryError::NoHome)?,
        };
        Ok(Registry::in_dir(&home))
    }

    /// The registry file inside `strait_home`.
    pub fn in_dir(strait_home: &Path) -> Self {
        Registry {
            path: strait_home.join(FILE_NAME),
        }
    }

    /// The file this registry reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where this process writes the token of the API it serves on `api`:
    /// beside the registry, named by the process and the port, so that
    /// runs side by side (in several processes, or several in one) never
    /// share a file.
    pub fn token_file(&self, api: SocketAddr) -> PathBuf {
        let name = format!("local-api-{}-{}.token", std::process::id(), api.port());
        match self.path.parent() {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        }
    }

    /// Records `contexts` as served by their processes. Entries of dead
    /// processes are dropped; a name served by another live process is
    /// refused, as two `local up` runs would otherwise fight over it.
    pub fn register(&self, contexts: &BTreeMap<String, LocalContext>) -> Result<(), RegistryError> {
        let mut file = self.read()?;
        file.contexts.retain(|_, c| alive(c.pid));
        for (name, context) in contexts {
            if let Some(existing) = file.contexts.get(name)
                && existing.pid != context.pid
            {
                return Err(RegistryError::InUse {
                    path: self.path.clone(),
                    name: name.clone(),
                    pid: existing.pid,
                    api: existing.api.clone(),
                });
            }
        }
        file.contexts.extend(contexts.clone());
        self.write(&file)
    }

    /// Removes the named contexts when this process (or a dead one) served
    /// them: a `local up` exiting unregisters only what it registered.
    pub fn unregister<S: AsRef<str>>(&self, names: &[S]) -> Result<(), RegistryError> {
        let mut file = self.read()?;
        let own = std::process::id();
        file.contexts.retain(|name, c| {
            let named = names.iter().any(|n| n.as_ref() == name);
            alive(c.pid) && !(named && c.pid == own)
        });
        self.write(&file)
    }

    /// The named context, if a live process serves it.
    pub fn lookup(&self, name: &str) -> Result<Option<LocalContext>, RegistryError> {
        Ok(self.contexts()?.remove(name))
    }

    /// Every context a live process serves, by name.
    pub fn contexts(&self) -> Result<BTreeMap<String, LocalContext>, RegistryError> {
        let mut file = self.read()?;
        file.contexts.retain(|_, c| alive(c.pid));
        Ok(file.contexts)
    }

    fn read(&self) -> Result<File, RegistryError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(File::default()),
            Err(source) => {
                return Err(RegistryError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if text.trim().is_empty() {
            return Ok(File::default());
        }
        serde_json::from_str(&text).map_err(|e| RegistryError::Malformed {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }

    /// Writes through a temporary file and a rename, so a reader never sees
    /// half a file.
    fn write(&self, file: &File) -> Result<(), RegistryError> {
        let io_error = |source| RegistryError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error)?;
        }
        let mut text =
            serde_json::to_string_pretty(file).map_err(|e| RegistryError::Malformed {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        text.push('\n');
        let mut temp = self.path.clone().into_os_string();
        temp.push(format!(".tmp.{}", std::process::id()));
        let temp = PathBuf::from(temp);
        std::fs::write(&temp, text).map_err(io_error)?;
        std::fs::rename(&temp, &self.path).map_err(|source| {
            let _ = std::fs::remove_file(&temp);
            io_error(source)
        })
    }
}

/// Whether process `pid` is alive, by `/proc/<pid>`. Where there is no
/// `/proc` every entry is taken as alive, since none can be proven dead.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests;
