//! Kubeconfigs as the commands meet them: written into a Link's
//! credentials Secret by `link-gen`, read back by `check`, and the user's
//! own, where `--context` names are looked up and a context's API server
//! address is found.

use std::path::PathBuf;

use k8s_openapi::ByteString;
use serde::{Deserialize, Serialize};

/// A kubeconfig that cannot be written or used, saying what it lacks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KubeconfigError {
    /// The text does not parse.
    #[error("the kubeconfig is not YAML: {reason}")]
    NotYaml {
        /// The parser's message.
        reason: String,
    },
    /// No `current-context`, so there is nothing to connect to.
    #[error("the kubeconfig has no current-context")]
    NoCurrentContext,
    /// The current context is not among its `contexts`.
    #[error("the kubeconfig has no context {context:?}")]
    NoContext {
        /// The context's name.
        context: String,
    },
    /// The context names a cluster without a server.
    #[error(
        "the kubeconfig names cluster {cluster:?} for context {context:?}, but has no server for it"
    )]
    NoServer {
        /// The cluster's name.
        cluster: String,
        /// The context naming it.
        context: String,
    },
    /// The CA certificate could not be encoded as base64.
    #[error("encoding the CA certificate")]
    EncodeCertificate,
    /// The document could not be written.
    #[error("writing the kubeconfig: {reason}")]
    Write {
        /// The serializer's message.
        reason: String,
    },
}

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
    pub fn to_kubeconfig(&self) -> Result<String, KubeconfigError> {
        let certificate_authority_data = match &self.certificate_authority {
            // ByteString serializes as base64, as kubeconfigs carry certificates.
            Some(pem) => match serde_json::to_value(ByteString(pem.clone())) {
                Ok(serde_json::Value::String(text)) => Some(text),
                Ok(_) | Err(_) => return Err(KubeconfigError::EncodeCertificate),
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
        serde_norway::to_string(&config).map_err(|e| KubeconfigError::Write {
            reason: e.to_string(),
        })
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

/// The parts of a kubeconfig that name contexts and locate their servers.
/// Entries lacking a part read as empty rather than failing the file.
#[derive(Debug, Default, Deserialize)]
struct Config {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(default, rename = "current-context")]
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    name: String,
    #[serde(default)]
    cluster: ClusterServer,
}

#[derive(Debug, Default, Deserialize)]
struct ClusterServer {
    #[serde(default)]
    server: String,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
    #[serde(default)]
    context: ContextCluster,
}

#[derive(Debug, Default, Deserialize)]
struct ContextCluster {
    #[serde(default)]
    cluster: String,
}

impl Config {
    fn server_of(&self, context: &str) -> Result<String, KubeconfigError> {
        let named = self
            .contexts
            .iter()
            .find(|c| c.name == context)
            .ok_or_else(|| KubeconfigError::NoContext {
                context: context.to_string(),
            })?;
        let cluster = &named.context.cluster;
        self.clusters
            .iter()
            .find(|c| &c.name == cluster)
            .map(|c| c.cluster.server.clone())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| KubeconfigError::NoServer {
                cluster: cluster.clone(),
                context: context.to_string(),
            })
    }
}

/// The current context of a kubeconfig document and its cluster's server.
pub fn current_server(text: &str) -> Result<(String, String), KubeconfigError> {
    let config: Config = serde_norway::from_str(text).map_err(|e| KubeconfigError::NotYaml {
        reason: e.to_string(),
    })?;
    let context = config
        .current_context
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or(KubeconfigError::NoCurrentContext)?;
    let server = config.server_of(&context)?;
    Ok((context, server))
}

/// The user's kubeconfig: `$KUBECONFIG`'s files, else `~/.kube/config`,
/// merged as kubectl merges them (contexts and clusters of every file; the
/// first file that sets a current-context wins).
#[derive(Debug, Default)]
pub struct UserKubeconfig {
    merged: Config,
}

impl UserKubeconfig {
    /// Reads the files. Files that are missing or unreadable count as
    /// empty; one that does not parse is skipped with a warning, as the
    /// others still name usable contexts.
    pub fn load() -> Self {
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
                tracing::warn!(path = %path.display(), "ignoring a kubeconfig that does not parse");
                continue;
            };
            merged.clusters.extend(config.clusters);
            merged.contexts.extend(config.contexts);
            if merged.current_context.is_none() {
                merged.current_context = config.current_context;
            }
        }
        UserKubeconfig { merged }
    }

    /// Whether a context of this name is defined.
    pub fn has_context(&self, name: &str) -> bool {
        self.merged.contexts.iter().any(|c| c.name == name)
    }

    /// The current context, unless unset or empty.
    pub fn current_context(&self) -> Option<&str> {
        self.merged
            .current_context
            .as_deref()
            .filter(|c| !c.is_empty())
    }

    /// The API server of `context`, when its cluster has one.
    pub fn server_of(&self, context: &str) -> Option<String> {
        self.merged.server_of(context).ok()
    }
}

#[cfg(test)]
mod tests;
