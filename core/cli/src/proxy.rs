//! `strait proxy`: the sidecar, configured by environment variables.

use std::process::ExitCode;

use strait_proxy::{ProxyConfig, VARIABLES};

/// The `--help` text's list of variables, built from the proxy's own table
/// so the two cannot drift apart.
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

/// Linkerd's variable for how many cores the proxy may use.
const CORES: &str = "LINKERD2_PROXY_CORES";

/// The number of worker threads: `LINKERD2_PROXY_CORES`, 1 when unset.
fn proxy_cores(value: Option<&str>) -> Result<usize, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(1),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{CORES}: {text:?} is not a positive number of cores")),
    }
}

pub fn run() -> ExitCode {
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
        let proxy = match strait_proxy::start(config).await {
            Ok(proxy) => proxy,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        crate::signal::terminated().await;
        tracing::info!("shutting down");
        drop(proxy);
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests;
