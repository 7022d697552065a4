//! Which cluster a command talks to: the global `--context` and `-n`, the
//! first resolved by `strait-kubectl` as kubectl resolves it, and the
//! one-shot runtime each command runs on.

use std::future::Future;
use std::process::ExitCode;

pub use strait_kubectl::{Target, resolve};
use strait_local_api::LocalClient;

/// The global `--context` and `-n` of a command line.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// `--context`, if given.
    pub context: Option<String>,
    /// `-n/--namespace`, if given.
    pub namespace: Option<String>,
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
        Ok(Target::Kubernetes { context, .. }) => {
            eprintln!("use kubectl for {command} against Kubernetes context {context:?}");
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
