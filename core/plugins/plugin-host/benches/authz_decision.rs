//! One authorization decision through the default Wasm plugin (reused
//! instance, candidates already prepared in it, as a proxy serving a policy
//! has them) against the same rules called natively, on the same inputs.
//! Prints both medians and the ratio at the end.
//!
//! `cargo bench -p strait-plugin-host --bench authz_decision`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;
use std::sync::Arc;

use strait_decisions::authz::{Authorization, CandidateSet, ClientTls, Inbound, authorize};
use strait_decisions::cases::{SLOW_COOKER, SLOW_COOKER_EVIL, bb_authz, request};
use strait_plugin_host::{AuthzPlugin, HostConfig, PluginBytes, PluginHost, PluginMetrics};

/// The guide's inputs: bb's server with `bb-authz`, the default policy and
/// the probe authorization, as the policy controller would list them.
fn inputs(identity: &str) -> (Arc<Inbound>, CandidateSet) {
    let default = Authorization {
        reference: strait_decisions::authz::ResourceRef::new("", "default", "all-unauthenticated"),
        networks: strait_decisions::net::Network::all().to_vec(),
        authentication: strait_decisions::authz::Authentication::Unauthenticated,
    };
    let mut bb = bb_authz();
    bb.networks.truncate(1);
    let candidates: Vec<Authorization> = vec![bb, default];
    (
        Arc::new(request(ClientTls::Mtls(identity.into()), "127.10.0.5")),
        CandidateSet::new(candidates),
    )
}

fn main() {
    let out_dir = criterion_dir();
    let mut c = Criterion::default()
        .output_directory(&out_dir)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("host");
    let plugin = AuthzPlugin::new(
        &host,
        "authz",
        &PluginBytes {
            origin: "built-in authz".into(),
            bytes: strait_default_plugins::AUTHZ_DEFAULT.to_vec(),
            version: None,
        },
    )
    .expect("default authz plugin");

    for (case, identity) in [("allow", SLOW_COOKER), ("deny", SLOW_COOKER_EVIL)] {
        let (req, candidates) = inputs(identity);
        let native = authorize(&req, &candidates);
        let wasm = plugin.authorize(req.clone(), &candidates).decision;
        assert_eq!(native, wasm, "{case}: native and wasm disagree");
        if case == "allow" {
            assert!(native.is_allow(), "the allow case must allow");
        }
        let mut group = c.benchmark_group(format!("authz_{case}"));
        group.bench_function("native", |b| {
            b.iter(|| authorize(black_box(&req), black_box(&candidates)))
        });
        group.bench_function("wasm", |b| {
            b.iter(|| plugin.authorize(black_box(req.clone()), black_box(&candidates)))
        });
        group.finish();
    }
    c.final_summary();
    report(&out_dir);
}

fn criterion_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../target"));
    target.join("criterion")
}

fn median_ns(dir: &std::path::Path, group: &str, bench: &str) -> Option<f64> {
    let path = dir.join(group).join(bench).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn report(dir: &std::path::Path) {
    println!("\nmedian per decision (ns)   native      wasm     ratio   target (wasm <= 1000 ns)");
    for case in ["allow", "deny"] {
        let group = format!("authz_{case}");
        match (
            median_ns(dir, &group, "native"),
            median_ns(dir, &group, "wasm"),
        ) {
            (Some(native), Some(wasm)) => println!(
                "{case:<26} {native:>8.1} {wasm:>9.1} {:>8.1}x   {}",
                wasm / native,
                if wasm <= 1000.0 { "met" } else { "missed" }
            ),
            _ => println!("{case:<26} (no estimates: run without a filter)"),
        }
    }
}
