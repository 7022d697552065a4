//! Running the proxy as a pod's sidecar: configuration from the
//! environment, the runtime sized by `LINKERD2_PROXY_CORES`, and a clean stop
//! on SIGTERM. Both `strait proxy` and the `strait-proxy` binary (the lean
//! one the sidecar image runs) call [`run_sidecar`].

use std::process::ExitCode;

use crate::{ConfigError, LOG, ProxyConfig, VARIABLES};

/// Linkerd's variable for how many cores the proxy may use.
pub use strait_mesh::env::CORES;

/// The list of environment variables for `--help`, built from the proxy's
/// own table so the two cannot drift apart.
pub fn variables_help() -> String {
    let width = VARIABLES
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("Environment variables:\n");
    for (name, what) in VARIABLES
        .iter()
        .chain(std::iter::once(&(CORES, "worker threads (default 1)")))
    {
        text.push_str(&format!("  {name:width$}  {what}\n"));
    }
    text
}

/// The number of worker threads: `LINKERD2_PROXY_CORES`, 1 when unset.
pub fn proxy_cores(value: Option<&str>) -> Result<usize, ConfigError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(1),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError {
                variable: CORES,
                reason: format!("{text:?} is not a positive number of cores"),
            }),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` when set, else by Linkerd's
/// `LINKERD2_PROXY_LOG`; a filter that does not parse falls back to `warn`
/// rather than silencing logs. Called once, before [`run_sidecar`].
pub fn init_logging() {
    let filter = ["RUST_LOG", LOG]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find_map(|text| tracing_subscriber::EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
}

/// Reads the configuration from the environment, runs the proxy until
/// SIGTERM or Ctrl-C, and says how it ended; configuration errors are
/// printed on stderr naming the variable at fault.
pub fn run_sidecar() -> ExitCode {
    let config = match ProxyConfig::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let cores = match proxy_cores(std::env::var(CORES).ok().as_deref()) {
        Ok(cores) => cores,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    // One core, as Linkerd's proxy runs by default: a sidecar shares its
    // pod's CPU with the application, and a single-threaded runtime spends
    // nothing on waking other threads.
    let runtime = if cores == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let proxy = match crate::start(config).await {
            Ok(proxy) => proxy,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        terminated().await;
        tracing::info!("shutting down");
        drop(proxy);
        ExitCode::SUCCESS
    })
}

/// Resolves on Ctrl-C, or on SIGTERM (what Kubernetes sends a pod); the
/// command line tool stops its other long-running commands on it too.
pub async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!("cannot listen for SIGTERM ({err}); stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests;
