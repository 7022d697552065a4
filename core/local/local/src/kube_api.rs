//! Each cluster's Kubernetes API, and the kubeconfig that reaches them:
//! one HTTPS server per cluster on its own loopback port, with a CA and a
//! bearer token made for this run, and a kubeconfig under STRAIT_HOME with
//! one context per cluster, named after its directory, for kubectl, kube-rs
//! and the `strait` commands alike.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use strait_apiserver::kubeconfig::{OWNER_EXTENSION, entries, kubeconfig};
use strait_apiserver::{ApiConfig, ClusterHost, ServingTls};

pub use strait_apiserver::kubeconfig::ClusterApi;
use strait_store::{MemoryStore, Reachability};
use tokio::task::JoinHandle;

use crate::error::LocalError;
use crate::token::ApiToken;

/// The kubeconfig's file name inside STRAIT_HOME.
pub const KUBECONFIG_FILE: &str = "kubeconfig";

/// Starts the API of cluster `name` over `store`.
pub async fn start(
    name: &str,
    store: MemoryStore,
    reachability: Reachability,
    pods: Option<Arc<dyn ClusterHost>>,
) -> Result<(ClusterApi, JoinHandle<()>), LocalError> {
    let tls = ServingTls::generate(name).map_err(|e| LocalError::shared("the API's TLS", e))?;
    let token = ApiToken::generate().map_err(|e| LocalError::shared("the API token", e))?;
    let ca_pem = tls.ca_pem().to_string();
    let config = ApiConfig {
        cluster: name.to_string(),
        store,
        token: token.secret().to_string(),
        tls: Arc::new(tls),
        reachability,
        host: pods,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let (bound, task) =
        strait_apiserver::serve(addr, config)
            .await
            .map_err(|e| LocalError::Api {
                addr,
                source: e.into(),
            })?;
    Ok((
        ClusterApi {
            name: name.to_string(),
            server: format!("https://{bound}"),
            ca_pem,
            token: token.secret().to_string(),
        },
        task,
    ))
}

/// One cluster's kubeconfig alone: what a client that reaches only that
/// cluster (a Link's credentials) is given.
pub fn single_kubeconfig(api: &ClusterApi) -> Result<String, LocalError> {
    strait_apiserver::kubeconfig::single(api).map_err(|e| LocalError::shared("the kubeconfig", e))
}

fn yaml(config: &Value) -> Result<String, LocalError> {
    serde_norway::to_string(config).map_err(|e| LocalError::shared("the kubeconfig", e))
}

/// Writes the kubeconfig of `apis` to `STRAIT_HOME/kubeconfig`, readable by
/// this user only (it holds the tokens). Returns its path.
pub fn write(strait_home: &Path, apis: &[ClusterApi]) -> Result<PathBuf, LocalError> {
    let path = strait_home.join(KUBECONFIG_FILE);
    write_private(&path, &yaml(&kubeconfig(apis))?)?;
    Ok(path)
}

fn write_private(path: &Path, text: &str) -> Result<(), LocalError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| LocalError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let fail = |source| LocalError::Write {
        path: path.to_path_buf(),
        source,
    };
    // A fresh file only this user can read: one left over (or planted) by
    // that name is removed first, never written through or followed.
    let tmp = path.with_extension("tmp");
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// What merging into a kubeconfig did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// Contexts added or replaced (strait's own from an earlier run).
    pub written: Vec<String>,
    /// Contexts left alone because the file has the user's own by that name.
    pub kept: Vec<String>,
}

/// Merges the contexts of `apis` into the kubeconfig at `path` (created if
/// missing): entries an earlier run of strait wrote are replaced; an entry
/// of the user's with the same name is kept and reported, never
/// overwritten. The current context is left as it is.
pub fn merge_into(path: &Path, apis: &[ClusterApi]) -> Result<Merged, LocalError> {
    let mut config: Value = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            serde_norway::from_str(&text).map_err(|e| LocalError::Parse {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?
        }
        _ => json!({"apiVersion": "v1", "kind": "Config"}),
    };
    if !config.is_object() {
        config = json!({"apiVersion": "v1", "kind": "Config"});
    }
    let mut merged = Merged::default();
    for api in apis {
        let (cluster, user, context) = entries(api);
        let mine = |list: &str| -> Option<bool> {
            let existing = config[list]
                .as_array()?
                .iter()
                .find(|e| e["name"].as_str() == Some(api.name.as_str()))?;
            let key = if list == "users" {
                return Some(true);
            } else {
                &list[..list.len() - 1]
            };
            Some(owned(&existing[key]))
        };
        if mine("contexts") == Some(false) || mine("clusters") == Some(false) {
            merged.kept.push(api.name.clone());
            continue;
        }
        for (list, entry) in [
            ("clusters", cluster),
            ("users", user),
            ("contexts", context),
        ] {
            replace(&mut config, list, &api.name, entry);
        }
        merged.written.push(api.name.clone());
    }
    write_private(path, &yaml(&config)?)?;
    Ok(merged)
}

/// Whether an entry carries strait's extension.
fn owned(entry: &Value) -> bool {
    entry["extensions"]
        .as_array()
        .is_some_and(|e| e.iter().any(|x| x["name"] == OWNER_EXTENSION))
}

fn replace(config: &mut Value, list: &str, name: &str, entry: Value) {
    if !config[list].is_array() {
        config[list] = json!([]);
    }
    if let Some(items) = config[list].as_array_mut() {
        items.retain(|e| e["name"].as_str() != Some(name));
        items.push(entry);
    }
}

/// The user's default kubeconfig: the first file of `$KUBECONFIG`, else
/// `~/.kube/config`, as kubectl writes to it.
pub fn default_kubeconfig() -> Option<PathBuf> {
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list).next(),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube").join("config")),
    }
}

/// The clusters' APIs by name.
pub type Apis = BTreeMap<String, ClusterApi>;

#[cfg(test)]
mod tests;
