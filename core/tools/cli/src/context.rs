//! Which cluster a command talks to: the global `--context` and `-n`, the
//! first resolved in the user's kubeconfig files as kubectl resolves it
//! (with the contexts of a running `strait local up` after them), and the
//! one-shot runtime each command runs on.

use std::future::Future;
use std::process::ExitCode;

use strait_kubectl::Kubectl;

/// The global `--context` and `-n` of a command line.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// `--context`, if given.
    pub context: Option<String>,
    /// `-n/--namespace`, if given.
    pub namespace: Option<String>,
}

/// Connects to the context's cluster (local or Kubernetes) for a
/// kubectl-like command and runs `body` against it. Errors are printed;
/// the exit code says whether it worked.
pub fn run_kubectl<F, Fut>(scope: &Scope, body: F) -> ExitCode
where
    F: FnOnce(Kubectl) -> Fut,
    Fut: Future<Output = ExitCode>,
{
    block_on(async move {
        match Kubectl::connect(scope.context.as_deref()).await {
            Ok(cluster) => body(cluster).await,
            Err(err) => {
                eprintln!("{}", strait_kubectl::client::report(&err));
                ExitCode::FAILURE
            }
        }
    })
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
