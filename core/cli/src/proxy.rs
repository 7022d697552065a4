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
    for (name, what) in VARIABLES {
        text.push_str(&format!("  {name:width$}  {what}\n"));
    }
    text
}

pub fn run() -> ExitCode {
    let config = match ProxyConfig::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
