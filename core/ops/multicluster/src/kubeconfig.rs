//! Kubeconfigs as the commands meet them: written into a Link's
//! credentials Secret by `link-gen`, read back by `check`, and the user's
//! own ([`UserKubeconfig`]), where `--context` names are looked up as
//! kubectl looks them up, with the contexts of a running `strait local up`
//! (STRAIT_HOME's kubeconfig) after the user's.

use std::path::PathBuf;

use k8s_openapi::ByteString;
use kube::config::{Cluster, Context, Kubeconfig as KubeFile};
use serde::Serialize;

/// The extension that marks a kubeconfig cluster entry as a cluster of
/// `strait local up`, naming it (`{cluster: east}`): such a context is a
/// local cluster, and a Link's credentials carrying it are refreshed by
/// each run of `strait local up` with that run's server, CA and token.
pub const LOCAL_EXTENSION: &str = "strait.io/local";

/// The kubeconfig `strait local up` writes in STRAIT_HOME, with a context
/// per cluster.
pub const LOCAL_KUBECONFIG: &str = "kubeconfig";

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
    /// A cluster entry's `certificate-authority-data` is not base64.
    #[error("the kubeconfig's certificate-authority-data of cluster {cluster:?} is not base64")]
    DecodeCertificate {
        /// The cluster entry's name.
        cluster: String,
    },
    /// `--context` names a context no kubeconfig file defines.
    #[error(
        "context {context:?} is not in the kubeconfig (searched {files}); `strait local up` adds its clusters' contexts while it runs"
    )]
    UnknownContext {
        /// The name given.
        context: String,
        /// The files searched.
        files: String,
    },
    /// No `--context` and no current context.
    #[error(
        "no current context in the kubeconfig (searched {files}): pass --context, or start clusters with `strait local up DIR`"
    )]
    NoCurrentContextIn {
        /// The files searched.
        files: String,
    },
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
    /// The API server's CA certificate(s), PEM, when the kubeconfig has them.
    pub certificate_authority: Option<Vec<u8>>,
    /// The bearer token, if the user has one.
    pub token: Option<String>,
    /// For a cluster of `strait local up`, its name, written as the
    /// [`LOCAL_EXTENSION`] so that later runs can refresh the credentials.
    pub local_cluster: Option<String>,
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
                        extensions: self.local_cluster.as_ref().map(|name| {
                            vec![Extension {
                                name: LOCAL_EXTENSION,
                                extension: LocalCluster {
                                    cluster: name.clone(),
                                },
                            }]
                        }),
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
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<Vec<Extension>>,
}

#[derive(Serialize)]
struct Extension {
    name: &'static str,
    extension: LocalCluster,
}

#[derive(Serialize)]
struct LocalCluster {
    cluster: String,
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

/// The token, or `{}` without one.
#[derive(Serialize)]
struct User {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

/// A context's entries in a kubeconfig: its cluster and, if named, its user.
fn context_of<'a>(config: &'a KubeFile, context: &str) -> Option<&'a Context> {
    config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
}

/// The cluster entry of `name`.
fn cluster_of<'a>(config: &'a KubeFile, name: &str) -> Option<&'a Cluster> {
    config
        .clusters
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.cluster.as_ref())
}

/// The API server of `context` in `config`, or what is missing.
fn server_in(config: &KubeFile, context: &str) -> Result<String, KubeconfigError> {
    let entry = context_of(config, context).ok_or_else(|| KubeconfigError::NoContext {
        context: context.to_string(),
    })?;
    cluster_of(config, &entry.cluster)
        .and_then(|c| c.server.clone())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| KubeconfigError::NoServer {
            cluster: entry.cluster.clone(),
            context: context.to_string(),
        })
}

/// The `strait local up` cluster whose entry `context` names: the value of
/// the [`LOCAL_EXTENSION`] on its cluster entry, if it has one.
pub fn local_cluster_in(config: &KubeFile, context: &str) -> Option<String> {
    let entry = context_of(config, context)?;
    cluster_of(config, &entry.cluster)?
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.name == LOCAL_EXTENSION)
        .and_then(|e| e.extension["cluster"].as_str())
        .map(str::to_string)
}

/// The credentials of `context` as `config` holds them: its server, the
/// CA it trusts, its user's token, and the [`LOCAL_EXTENSION`] of a local
/// cluster; what a Link to that cluster carries.
pub fn credentials_in(config: &KubeFile, context: &str) -> Result<Credentials, KubeconfigError> {
    let server = server_in(config, context)?;
    let entry = context_of(config, context).ok_or_else(|| KubeconfigError::NoContext {
        context: context.to_string(),
    })?;
    let cluster = cluster_of(config, &entry.cluster);
    let certificate_authority = match cluster.and_then(|c| c.certificate_authority_data.clone()) {
        Some(data) => Some(
            serde_json::from_value::<ByteString>(serde_json::Value::String(data))
                .map_err(|_| KubeconfigError::DecodeCertificate {
                    cluster: entry.cluster.clone(),
                })?
                .0,
        ),
        None => None,
    };
    let user = entry.user.clone().unwrap_or_else(|| context.to_string());
    // The token is a secret kube's type keeps behind its serializer.
    let token = config
        .auth_infos
        .iter()
        .find(|u| u.name == user)
        .and_then(|u| serde_json::to_value(&u.auth_info).ok())
        .and_then(|u| u["token"].as_str().map(str::to_string));
    Ok(Credentials {
        cluster: context.to_string(),
        server,
        user,
        certificate_authority,
        token,
        local_cluster: local_cluster_in(config, context),
    })
}

/// The current context of a kubeconfig document and its cluster's server.
pub fn current_server(text: &str) -> Result<(String, String), KubeconfigError> {
    let config = parse(text)?;
    let context = current_of(&config).ok_or(KubeconfigError::NoCurrentContext)?;
    let server = server_in(&config, &context)?;
    Ok((context, server))
}

/// A kubeconfig document, read as kube's client reads it.
pub fn parse(text: &str) -> Result<KubeFile, KubeconfigError> {
    KubeFile::from_yaml(text).map_err(|e| KubeconfigError::NotYaml {
        reason: e.to_string(),
    })
}

/// The current context, unless unset or empty.
fn current_of(config: &KubeFile) -> Option<String> {
    config.current_context.clone().filter(|c| !c.is_empty())
}

/// STRAIT_HOME: `$STRAIT_HOME`, else `~/.strait`; `None` without either.
pub fn strait_home() -> Option<PathBuf> {
    match std::env::var_os("STRAIT_HOME").filter(|v| !v.is_empty()) {
        Some(home) => Some(PathBuf::from(home)),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| PathBuf::from(home).join(".strait")),
    }
}

/// The kubeconfig files `--context` is looked up in, in order: kubectl's
/// (`$KUBECONFIG`'s, else `~/.kube/config`), then the one a running
/// `strait local up` writes in STRAIT_HOME, last, so that its contexts are
/// found without exporting anything and never shadow the user's own.
pub fn search_path() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => std::env::var_os("HOME")
            .map(|home| vec![PathBuf::from(home).join(".kube").join("config")])
            .unwrap_or_default(),
    };
    if let Some(home) = strait_home() {
        let local = home.join(LOCAL_KUBECONFIG);
        if !files.contains(&local) {
            files.push(local);
        }
    }
    files
}

/// The user's kubeconfig: the files of [`search_path`] merged as kubectl
/// merges them (the first file defining a name wins; the current context
/// is the first file's that sets one).
#[derive(Clone, Debug, Default)]
pub struct UserKubeconfig {
    merged: KubeFile,
    files: Vec<PathBuf>,
}

impl UserKubeconfig {
    /// Reads the files of [`search_path`].
    pub fn load() -> Self {
        Self::read(search_path())
    }

    /// Reads `files`, in order. Missing files count as empty, as kubectl
    /// counts them; one that does not parse is skipped with a warning, as
    /// the others still name usable contexts.
    pub fn read(files: Vec<PathBuf>) -> Self {
        let mut merged = KubeFile::default();
        for path in &files {
            if !path.is_file() {
                continue;
            }
            let mut config = match KubeFile::read_from(path) {
                Ok(config) => config,
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "ignoring a kubeconfig that does not read");
                    continue;
                }
            };
            // An empty current-context sets none, as kubectl reads it.
            config.current_context = current_of(&config);
            merged = match merged.clone().merge(config) {
                Ok(next) => next,
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "ignoring a kubeconfig that does not merge");
                    merged
                }
            };
        }
        UserKubeconfig { merged, files }
    }

    /// The merged kubeconfig, from which clients for its contexts are made.
    pub fn kubeconfig(&self) -> &KubeFile {
        &self.merged
    }

    /// The files searched, for messages.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Whether a context of this name is defined.
    pub fn has_context(&self, name: &str) -> bool {
        self.merged.contexts.iter().any(|c| c.name == name)
    }

    /// The current context, unless unset or empty.
    pub fn current_context(&self) -> Option<String> {
        current_of(&self.merged)
    }

    /// The API server of `context`, when its cluster has one.
    pub fn server_of(&self, context: &str) -> Option<String> {
        server_in(&self.merged, context).ok()
    }

    /// The `strait local up` cluster `context` reaches, if it is one.
    pub fn local_cluster(&self, context: &str) -> Option<String> {
        local_cluster_in(&self.merged, context)
    }

    /// The credentials of `context`: see [`credentials_in`].
    pub fn credentials(&self, context: &str) -> Result<Credentials, KubeconfigError> {
        credentials_in(&self.merged, context)
    }

    /// The context a command talks to: `context` when given, else the
    /// current one; an error names the context and the files searched.
    pub fn resolve(&self, context: Option<&str>) -> Result<String, KubeconfigError> {
        let files = || {
            self.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let name = match context {
            Some(name) => name.to_string(),
            None => self
                .current_context()
                .ok_or_else(|| KubeconfigError::NoCurrentContextIn { files: files() })?,
        };
        if self.has_context(&name) {
            Ok(name)
        } else {
            Err(KubeconfigError::UnknownContext {
                context: name,
                files: files(),
            })
        }
    }
}

#[cfg(test)]
mod tests;
