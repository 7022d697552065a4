//! Each cluster's Kubernetes API, and the kubeconfig that reaches them:
//! one HTTPS server per cluster on its own loopback port, with a CA and a
//! bearer token made for this run, and a kubeconfig under STRAIT_HOME with
//! one context per cluster, named after its directory, for kubectl, kube-rs
//! and the `strait` commands alike.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::token::ApiToken;
use serde_json::{Value, json};
use strait_apiserver::{ApiConfig, ClusterHost, ServingTls};
use strait_store::{MemoryStore, Reachability};
use tokio::task::JoinHandle;

use crate::error::LocalError;

/// The kubeconfig's file name inside STRAIT_HOME.
pub const KUBECONFIG_FILE: &str = "kubeconfig";
/// The extension a context entry strait wrote carries, so that a later run
/// may replace it in a merged kubeconfig while a user's own entry of the
/// same name is never touched.
pub const OWNER_EXTENSION: &str = "strait.io/local";

/// One cluster's API: where it listens and how it is trusted and reached.
#[derive(Clone, Debug)]
pub struct ClusterApi {
    /// The cluster's (and its context's) name.
    pub name: String,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// The run's CA certificate for this cluster, PEM.
    pub ca_pem: String,
    /// The bearer token.
    pub token: String,
}

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

/// The kubeconfig of `apis`: a cluster, a user and a context per cluster,
/// the first one current.
pub fn kubeconfig(apis: &[ClusterApi]) -> Value {
    let mut config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": apis.first().map(|a| a.name.clone()).unwrap_or_default(),
    });
    for api in apis {
        let (cluster, user, context) = entries(api);
        push(&mut config, "clusters", cluster);
        push(&mut config, "users", user);
        push(&mut config, "contexts", context);
    }
    config
}

/// One cluster's kubeconfig alone: what a client that reaches only that
/// cluster (a Link's credentials) is given.
pub fn single_kubeconfig(api: &ClusterApi) -> Result<String, LocalError> {
    yaml(&kubeconfig(std::slice::from_ref(api)))
}

fn entries(api: &ClusterApi) -> (Value, Value, Value) {
    let owner = json!([{"name": OWNER_EXTENSION, "extension": {"cluster": api.name}}]);
    (
        json!({"name": api.name, "cluster": {
            "server": api.server,
            "certificate-authority-data": base64(api.ca_pem.as_bytes()),
            "extensions": owner,
        }}),
        json!({"name": api.name, "user": {"token": api.token}}),
        json!({"name": api.name, "context": {
            "cluster": api.name, "user": api.name, "extensions": owner,
        }}),
    )
}

fn push(config: &mut Value, list: &str, entry: Value) {
    if let Some(items) = config[list].as_array_mut() {
        items.push(entry);
    }
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
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
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

/// Base64, as kubeconfigs carry certificates (k8s-openapi's ByteString
/// is the one encoder the workspace uses for it).
fn base64(bytes: &[u8]) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(bytes.to_vec())).unwrap_or(Value::Null)
}

/// The clusters' APIs by name.
pub type Apis = BTreeMap<String, ClusterApi>;

#[cfg(test)]
mod tests;
