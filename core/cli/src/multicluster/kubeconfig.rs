//! Kubeconfigs as the multicluster commands meet them: written into a
//! Link's credentials Secret by `link-gen`, read back by `check`, and the
//! user's own, where a context's API server address is found.

use std::path::PathBuf;

use k8s_openapi::ByteString;
use serde::{Deserialize, Serialize};

/// What a source cluster needs to reach a target's API: the server, how to
/// trust it, and who to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The name of the cluster (and context) in the kubeconfig.
    pub cluster: String,
    /// The API server's URL.
    pub server: String,
    /// The user's name in the kubeconfig.
    pub user: String,
    /// The API server's CA certificate(s), PEM; none for local clusters.
    pub certificate_authority: Option<Vec<u8>>,
    /// The bearer token; none for local clusters, which need none.
    pub token: Option<String>,
}

impl Credentials {
    /// The kubeconfig document: one cluster, one context (current), one user.
    pub fn to_kubeconfig(&self) -> Result<String, String> {
        let certificate_authority_data = match &self.certificate_authority {
            // ByteString serializes as base64, as kubeconfigs carry certificates.
            Some(pem) => match serde_json::to_value(ByteString(pem.clone())) {
                Ok(serde_json::Value::String(text)) => Some(text),
                Ok(_) | Err(_) => return Err("encoding the CA certificate".into()),
            },
            None => None,
        };
        let config = Kubeconfig {
            api_version: "v1",
            kind: "Config",
            clusters: vec![Named {
                name: self.cluster.clone(),
                value: ClusterEntry {
                    cluster: Server {
                        certificate_authority_data,
                        server: self.server.clone(),
                    },
                },
            }],
            contexts: vec![Named {
                name: self.cluster.clone(),
                value: ContextEntry {
                    context: ContextRef {
                        cluster: self.cluster.clone(),
                        user: self.user.clone(),
                    },
                },
            }],
            current_context: self.cluster.clone(),
            users: vec![Named {
                name: self.user.clone(),
                value: UserEntry {
                    user: User {
                        token: self.token.clone(),
                    },
                },
            }],
        };
        serde_norway::to_string(&config).map_err(|e| format!("writing the kubeconfig: {e}"))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    clusters: Vec<Named<ClusterEntry>>,
    contexts: Vec<Named<ContextEntry>>,
    current_context: String,
    users: Vec<Named<UserEntry>>,
}

#[derive(Serialize)]
struct Named<T> {
    name: String,
    #[serde(flatten)]
    value: T,
}

#[derive(Serialize)]
struct ClusterEntry {
    cluster: Server,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Server {
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_authority_data: Option<String>,
    server: String,
}

#[derive(Serialize)]
struct ContextEntry {
    context: ContextRef,
}

#[derive(Serialize)]
struct ContextRef {
    cluster: String,
    user: String,
}

#[derive(Serialize)]
struct UserEntry {
    user: User,
}

/// `{}` for local clusters; the token otherwise.
#[derive(Serialize)]
struct User {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

/// The parts of a kubeconfig that locate a context's server.
#[derive(Debug, Default, Deserialize)]
struct Config {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(default, rename = "current-context")]
    current_context: String,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    name: String,
    cluster: ClusterServer,
}

#[derive(Debug, Deserialize)]
struct ClusterServer {
    #[serde(default)]
    server: String,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
    context: ContextCluster,
}

#[derive(Debug, Deserialize)]
struct ContextCluster {
    #[serde(default)]
    cluster: String,
}

impl Config {
    fn server_of(&self, context: &str) -> Result<String, String> {
        let named = self
            .contexts
            .iter()
            .find(|c| c.name == context)
            .ok_or_else(|| format!("has no context {context:?}"))?;
        let cluster = &named.context.cluster;
        self.clusters
            .iter()
            .find(|c| &c.name == cluster)
            .map(|c| c.cluster.server.clone())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                format!(
                    "names cluster {cluster:?} for context {context:?}, but has no server for it"
                )
            })
    }
}

/// The current context of a kubeconfig document and its cluster's server.
pub fn current_server(text: &str) -> Result<(String, String), String> {
    let config: Config =
        serde_norway::from_str(text).map_err(|e| format!("the kubeconfig is not YAML: {e}"))?;
    if config.current_context.is_empty() {
        return Err("the kubeconfig has no current-context".into());
    }
    let server = config
        .server_of(&config.current_context)
        .map_err(|e| format!("the kubeconfig {e}"))?;
    Ok((config.current_context, server))
}

/// The API server of `context` in the user's kubeconfig (`$KUBECONFIG`'s
/// files, else `~/.kube/config`; the first file that defines the context
/// wins, as kubectl merges them).
pub fn server_of_context(context: &str) -> Option<String> {
    let paths: Vec<PathBuf> = match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list).collect(),
        None => std::env::var_os("HOME")
            .map(|home| vec![PathBuf::from(home).join(".kube").join("config")])
            .unwrap_or_default(),
    };
    let mut merged = Config::default();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(config) = serde_norway::from_str::<Config>(&text) else {
            continue;
        };
        merged.clusters.extend(config.clusters);
        merged.contexts.extend(config.contexts);
    }
    merged.server_of(context).ok()
}

#[cfg(test)]
mod tests;
