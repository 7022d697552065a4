//! Which cluster a command talks to: `--context` and `-n`, resolved as
//! kubectl resolves them, against the clusters of a running `strait local up`
//! first and the kubeconfig second.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Deserialize;
use strait_local_api::{LocalClient, Registry};

/// The global `--context` and `-n` of a command line.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// `--context`, if given.
    pub context: Option<String>,
    /// `-n/--namespace`, if given.
    pub namespace: Option<String>,
}

/// Where a command goes.
pub enum Target {
    /// A cluster of a running `strait local up`.
    Local(Box<LocalClient>),
    /// A Kubernetes cluster, by its kubeconfig context name.
    Kubernetes(String),
}

/// Finds the cluster `--context` names: a registered local context, else a
/// kubeconfig context. Without `--context`, the only running local cluster;
/// with several, the user must choose; with none, the kubeconfig's
/// current context (which kubectl would use).
pub fn resolve(context: Option<&str>) -> Result<Target, String> {
    let registry = Registry::from_env().map_err(|e| e.to_string())?;
    let local = registry.contexts().map_err(|e| e.to_string())?;
    let client = |name: &str, api: &str| {
        LocalClient::new(name, api)
            .map(|c| Target::Local(Box::new(c)))
            .map_err(|e| e.to_string())
    };
    let kubeconfig = Kubeconfig::load();
    match context {
        Some(name) => {
            if let Some(found) = local.get(name) {
                return client(name, &found.api);
            }
            if kubeconfig.contexts.iter().any(|c| c.name == name) {
                return Ok(Target::Kubernetes(name.to_string()));
            }
            let running = if local.is_empty() {
                format!(
                    "no local cluster is running (none in {})",
                    registry.path().display()
                )
            } else {
                format!("running local clusters: {}", names(local.keys()))
            };
            Err(format!(
                "context {name:?} is neither a running `strait local up` cluster nor a kubeconfig context ({running})"
            ))
        }
        None => match local.len() {
            1 => match local.iter().next() {
                Some((name, found)) => client(name, &found.api),
                None => Err("no local cluster is running".into()),
            },
            0 => match kubeconfig.current_context.filter(|c| !c.is_empty()) {
                Some(current) => Ok(Target::Kubernetes(current)),
                None => Err(format!(
                    "no cluster to talk to: no `strait local up` is running (none in {}) and the kubeconfig has no current context; start one with `strait local up DIR` or pass --context",
                    registry.path().display()
                )),
            },
            n => Err(format!(
                "{n} local clusters are running ({}): choose one with --context",
                names(local.keys())
            )),
        },
    }
}

fn names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Resolves the context for a kubectl-like command that only local
/// clusters support, and runs `body` against it; Kubernetes contexts are
/// sent to kubectl. Errors are printed; the exit code says whether it
/// worked.
pub fn run_local<F, Fut>(scope: &Scope, command: &str, body: F) -> ExitCode
where
    F: FnOnce(LocalClient) -> Fut,
    Fut: Future<Output = ExitCode>,
{
    match resolve(scope.context.as_deref()) {
        Ok(Target::Local(client)) => block_on(body(*client)),
        Ok(Target::Kubernetes(name)) => {
            eprintln!("use kubectl for {command} against Kubernetes context {name:?}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a future on a runtime of its own: commands are one-shot.
pub fn block_on<Fut: Future<Output = ExitCode>>(future: Fut) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(err) => {
            eprintln!("error: starting the runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a future that yields a result on a runtime of its own, for a
/// command that needs one answer from a cluster before its own work.
pub fn block_on_result<T, Fut: Future<Output = Result<T, String>>>(
    future: Fut,
) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?
        .block_on(future)
}

/// The part of a kubeconfig that names contexts.
#[derive(Debug, Default, Deserialize)]
struct Kubeconfig {
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(default, rename = "current-context")]
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
}

impl Kubeconfig {
    /// The contexts of `$KUBECONFIG`'s files (or `~/.kube/config`), merged
    /// as kubectl merges them: the first current-context wins. Files that
    /// are missing or unreadable count as empty.
    fn load() -> Self {
        let paths: Vec<PathBuf> = match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(&list).collect(),
            None => std::env::var_os("HOME")
                .map(|home| vec![PathBuf::from(home).join(".kube").join("config")])
                .unwrap_or_default(),
        };
        let mut merged = Kubeconfig::default();
        for path in paths {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(config) = serde_norway::from_str::<Kubeconfig>(&text) else {
                tracing::warn!(path = %path.display(), "ignoring a kubeconfig that does not parse");
                continue;
            };
            merged.contexts.extend(config.contexts);
            if merged.current_context.is_none() {
                merged.current_context = config.current_context;
            }
        }
        merged
    }
}
