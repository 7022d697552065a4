//! `strait proxy`: the sidecar, configured by environment variables (the
//! same as the `strait-proxy` binary).

use std::process::ExitCode;

pub use strait_proxy::variables_help;

pub fn run() -> ExitCode {
    strait_proxy::run_sidecar()
}
