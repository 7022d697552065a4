//! `strait-reliability`: runs the drills on the embedded clusters and
//! prints the table of what was tried and what was lost; exits 1 when any
//! drill failed, or any was skipped without `--allow-skipped`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use strait_reliability::soak::SoakOptions;
use strait_reliability::{DrillMesh, Load, Report, Row};

/// Runs strait's reliability drills: the pod-to-pod guide on embedded
/// clusters in this process, under load, while faults are injected; prints
/// a table of what was tried and what was lost.
#[derive(Parser)]
#[command(name = "strait-reliability")]
struct Args {
    /// The drills to run, comma-separated (all when not given).
    #[arg(long, value_delimiter = ',')]
    drills: Vec<Drill>,
    /// How long the soak runs (Go notation: 30s, 5m).
    #[arg(long, default_value = "5m", value_parser = duration)]
    soak: Duration,
    /// How long east's API server is unreachable in the outage drill.
    #[arg(long, default_value = "60s", value_parser = duration)]
    outage: Duration,
    /// Requests a second from the admitted client during the soak and the
    /// outage.
    #[arg(long, default_value_t = 1000)]
    rps: u32,
    /// Requests a second from the refused client.
    #[arg(long, default_value_t = 50)]
    denied_rps: u32,
    /// Seconds each fuzz target runs (needs cargo-fuzz; 0 skips them).
    #[arg(long, default_value_t = 30)]
    fuzz_seconds: u64,
    /// A short run of every drill (soak 40s with faults twice as often,
    /// outage 20s, 200 requests a second, no fuzzing): to check the suite
    /// works, not to measure.
    #[arg(long)]
    quick: bool,
    /// Exit 0 even when rows were skipped (a tool missing, `--quick`'s
    /// fuzzing): by default a skipped row fails the run, since it proves
    /// nothing.
    #[arg(long)]
    allow_skipped: bool,
    /// The pod-to-pod example to run the drills on.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../examples/pod-to-pod"))]
    example: PathBuf,
}

/// A drill of the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Drill {
    Soak,
    Outage,
    Plugins,
    Resources,
    Security,
    Fuzz,
}

fn duration(text: &str) -> Result<Duration, String> {
    strait_api::go_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a duration such as 30s or 5m"))
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    if args.drills.is_empty() {
        args.drills = Drill::value_variants().to_vec();
    }
    let mut soak = SoakOptions::over(args.soak);
    if args.quick {
        soak = SoakOptions {
            duration: Duration::from_secs(40),
            push_every: Duration::from_secs(3),
            flap_every: Duration::from_secs(10),
            restart_every: Duration::from_secs(12),
            restart_down: Duration::from_secs(5),
            flap_gap: Duration::from_secs(2),
            flap_cut: Duration::from_secs(10),
        };
        args.outage = Duration::from_secs(20);
        args.rps = 200;
        args.denied_rps = 20;
        args.fuzz_seconds = 0;
    }
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
    let report = runtime.block_on(run(&args, &soak));
    println!("{}", report.table());
    let skipped = report.skipped();
    if !skipped.is_empty() {
        eprintln!(
            "{} {} skipped{}:",
            skipped.len(),
            if skipped.len() == 1 {
                "row was"
            } else {
                "rows were"
            },
            if args.allow_skipped {
                " (allowed by --allow-skipped)"
            } else {
                "; the run fails unless --allow-skipped"
            }
        );
        for row in &skipped {
            eprintln!("  {} {}: {}", row.drill, row.tried, row.happened);
        }
    }
    if report.passed(args.allow_skipped) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run(args: &Args, soak: &SoakOptions) -> Report {
    let mut report = Report::default();
    let heavy = Load {
        allowed_rps: args.rps,
        denied_rps: args.denied_rps,
    };
    let light = Load {
        allowed_rps: 100,
        denied_rps: 10,
    };
    for drill in &args.drills {
        let name = format!("{drill:?}").to_lowercase();
        eprintln!("== {name}");
        if *drill == Drill::Fuzz {
            if args.fuzz_seconds == 0 {
                report.push(Row::skipped("fuzz", "the fuzz targets", "--fuzz-seconds 0"));
            } else {
                report.extend(strait_reliability::fuzz::fuzz(args.fuzz_seconds));
            }
            continue;
        }
        let load = match drill {
            Drill::Soak | Drill::Outage => heavy,
            _ => light,
        };
        let mesh = match DrillMesh::start(&args.example, load, &name).await {
            Ok(mesh) => mesh,
            Err(error) => {
                report.push(Row::new(
                    "setup",
                    format!("start the guide for the {name} drill"),
                    error,
                    "the drill",
                    false,
                ));
                continue;
            }
        };
        let rows = match drill {
            Drill::Soak => strait_reliability::soak::soak(&mesh, soak).await,
            Drill::Outage => strait_reliability::outage::outage(&mesh, args.outage).await,
            Drill::Plugins => strait_reliability::plugins::plugins(&mesh).await,
            Drill::Resources => strait_reliability::resources::resources(&mesh).await,
            Drill::Security => strait_reliability::security::security(&mesh).await,
            Drill::Fuzz => Vec::new(),
        };
        report.extend(rows);
        mesh.stop().await;
    }
    report
}
