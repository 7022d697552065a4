//! `strait-proxy`: the sidecar alone, the binary the proxy container runs.
//! It is `strait proxy` without the rest of the command line tool, so a
//! pod's sidecar maps only the code a proxy runs.

use std::process::ExitCode;

use strait_mesh::ports::{ADMIN_PORT, INBOUND_PORT, OUTBOUND_PORT};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None => {}
        Some("-h" | "--help") => {
            println!(
                "strait-proxy: a pod's sidecar, configured by environment variables as \
                 Linkerd's proxy is (inbound {INBOUND_PORT}, outbound {OUTBOUND_PORT}, admin \
                 {ADMIN_PORT}).\n\n\
                 Usage: strait-proxy\n\n{}",
                strait_proxy::variables_help()
            );
            return ExitCode::SUCCESS;
        }
        Some("-V" | "--version") => {
            println!("strait-proxy {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!(
                "error: unexpected argument {other:?}; strait-proxy is configured by environment variables (see --help)"
            );
            return ExitCode::FAILURE;
        }
    }
    strait_proxy::init_logging();
    strait_proxy::run_sidecar()
}
