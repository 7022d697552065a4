//! The data plane side by side, in one run, in pods as on Kubernetes:
//! each pod a network namespace on a bridge with the init container's
//! iptables rules, the proxies learning every connection's original
//! destination from them, the load generator (`oha`) in slow-cooker's pod
//! calling bb's Service, the app (HTTP/1.1, 1 KiB answers) in bb's pod.
//!
//! Rows: direct (pods without rules or proxies); two plain relays (this
//! binary, one thread, copying bytes: the floor for any two proxy
//! processes here, in the same rules); strait's pair; Linkerd's pair
//! (`linkerd2-proxy`); and the mixed pairs. Each proxy runs one worker
//! thread, holds an ECDSA P-256 key certified by strait's identity, and
//! enforces the guide's policy from strait's control plane (over TLS, on
//! the node's address). Per row: the highest throughput (closed loop);
//! p50, p99 and p99.9 at 1,000 requests per second and at half the row's
//! own highest (open loop, corrected for coordinated omission); CPU per
//! request of each proxy (`perf stat -e task-clock` over the fixed-rate
//! run); each proxy's RSS; and how long the pair took to be ready.
//!
//! Run with `core/proxy/integration/benches/pods.sh [LINKERD2_PROXY]`; it
//! builds strait's proxy (release) and sets `STRAIT_PROXY_BIN`, `OHA` and,
//! when given, `LINKERD2_PROXY_BIN`. Needs root, `ip`, `nsenter`,
//! iptables and `perf`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use strait_proxy_integration::apps::{kib_app_on, relay_spec, run_relay};
use strait_proxy_integration::pods::{
    AUTHORITY, CLUSTER_IP, PORT, PROXY_UID, PodProxy, Sidecar, Workload, guide_in_pods, init_pod,
    runnable_by_proxy_user, start_proxy, wait_ready,
};
use strait_proxy_integration::{NS, tls_control_plane_at, trust_root};
use strait_store::MemoryStore;
use strait_test_support::bench::memory_kib;
use strait_test_support::netns::{Node, Pod, why_unavailable};
use tokio::net::TcpListener;

const DURATION_S: u64 = 10;
const CONNECTIONS: &str = "32";
const FIXED_RATE: f64 = 1000.0;

/// Set (to `LISTEN=TARGET`) when this binary runs as a relay.
const RELAY: &str = "PODS_BENCH_RELAY";

/// The app (HTTP/1.1, 1 KiB answers) on a listener bound in bb's pod.
fn app(listener: std::net::TcpListener) {
    match TcpListener::from_std(listener) {
        Ok(listener) => kib_app_on(listener),
        Err(e) => panic!("the app's listener: {e}"),
    }
}

/// A relay process in `pod`, as the proxy's user (so the rules leave its
/// own connections alone), from `listen` to `target`.
struct Relay(Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_relay(pod: &Pod, me: &Path, listen: &str, target: &str) -> Relay {
    let mut command = pod.command(me, Some(PROXY_UID));
    command
        .env(RELAY, format!("{listen}={target}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    match command.spawn() {
        Ok(child) => Relay(child),
        Err(e) => panic!("a relay in {}: {e}", pod.name),
    }
}

/// One load run's figures.
#[derive(Clone, Copy, Default)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    success: f64,
}

/// `oha` in `pod` against `url` (reached at `connect_to`, when given).
fn oha(oha: &Path, pod: &Pod, url: &str, connect_to: Option<&str>, extra: &[String]) -> Run {
    let mut command = pod.command(oha, None);
    command.args(["--no-tui", "--output-format", "json", "-z"]);
    command.arg(format!("{DURATION_S}s"));
    command.args(extra);
    if let Some(connect_to) = connect_to {
        command.args(["--connect-to", connect_to]);
    }
    command.arg(url);
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running oha: {e}"));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "oha printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let percentile =
        |p: &str| report["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    Run {
        rps: report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50_ms: percentile("p50"),
        p99_ms: percentile("p99"),
        p999_ms: percentile("p99.9"),
        success: report["summary"]["successRate"].as_f64().unwrap_or(0.0),
    }
}

/// `perf stat -e task-clock` of `pid` for the fixed-rate run, started
/// beside it; its CPU milliseconds when it ends.
struct CpuMeter(Child);

impl CpuMeter {
    fn start(pid: u32) -> CpuMeter {
        let child = Command::new("perf")
            .args([
                "stat",
                "-x",
                ",",
                "-e",
                "task-clock",
                "-p",
                &pid.to_string(),
            ])
            .arg("--")
            .args(["sleep", &DURATION_S.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("perf stat (apt-get install linux-perf): {e}"));
        CpuMeter(child)
    }

    fn cpu_ms(self) -> f64 {
        let output = self
            .0
            .wait_with_output()
            .unwrap_or_else(|e| panic!("perf stat: {e}"));
        let text = String::from_utf8_lossy(&output.stderr);
        text.lines()
            .find(|l| l.contains("task-clock"))
            .and_then(|l| l.split(',').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("perf stat printed no task-clock: {text}"))
    }
}

/// A row's figures.
struct Row {
    name: String,
    max: Run,
    fixed: Run,
    half: Run,
    /// CPU per request at 1,000 rps, in µs, of the client's and the
    /// server's proxy (or relay).
    cpu_us: Option<(f64, f64)>,
    /// RSS after the runs, in MiB, of the client's and the server's proxy.
    rss_mib: Option<(f64, f64)>,
    /// How long the pair took from start to ready, in ms.
    ready_ms: Option<u128>,
}

/// What runs in the pods of one row.
enum Setup {
    Direct,
    Relays,
    Pair { client: Sidecar, server: Sidecar },
}

struct Bench {
    oha: PathBuf,
    me: PathBuf,
}

impl Bench {
    /// Builds the row's pods, runs the three loads and tears it down.
    async fn row(&self, name: &str, setup: Setup) -> Row {
        let node = Node::new(&["bb", "slow-cooker"]).unwrap_or_else(|e| panic!("{e}"));
        let (bb, client) = (node.pod("bb"), node.pod("slow-cooker"));
        app(bb.bind(SocketAddr::from(([0, 0, 0, 0], PORT))));
        let dir = std::env::temp_dir().join(format!(
            "strait-pods-bench-{}-{}",
            std::process::id(),
            node.gateway()
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let service = format!("{CLUSTER_IP}:{PORT}");
        let mesh_url = format!("http://{AUTHORITY}/");
        let connect_to = format!("{AUTHORITY}:{service}");
        let direct_url = format!("http://{}:{PORT}/", bb.ip);
        let mut relays = Vec::new();
        let mut proxies: Vec<PodProxy> = Vec::new();
        let mut plane = None;
        let mut ready_ms = None;
        let (url, connect_to): (&str, Option<&str>) = match setup {
            Setup::Direct => (&direct_url, None),
            Setup::Relays => {
                for pod in [bb, client] {
                    init_pod(pod).unwrap_or_else(|e| panic!("{e}"));
                }
                let me = runnable_by_proxy_user(&self.me, &dir);
                // Listening first: the server's, then the client's.
                relays.push(spawn_relay(
                    bb,
                    &me,
                    "0.0.0.0:4143",
                    &format!("127.0.0.1:{PORT}"),
                ));
                relays.push(spawn_relay(
                    client,
                    &me,
                    "127.0.0.1:4140",
                    &format!("{}:{PORT}", bb.ip),
                ));
                (&mesh_url, Some(&connect_to))
            }
            Setup::Pair {
                client: c,
                server: s,
            } => {
                for pod in [bb, client] {
                    init_pod(pod).unwrap_or_else(|e| panic!("{e}"));
                }
                let store = MemoryStore::new();
                guide_in_pods(
                    &store,
                    &node,
                    &[("bb", "bb"), ("slow-cooker", "slow-cooker")],
                );
                let root = trust_root();
                let anchors = root.as_trust_anchor().to_pem();
                let running = tls_control_plane_at(
                    "local",
                    &store,
                    &root,
                    &[(NS, "bb"), (NS, "slow-cooker")],
                    node.gateway().into(),
                )
                .await;
                let addrs = running.addrs();
                plane = Some(running);
                let started = Instant::now();
                let workload = |pod, sa| Workload {
                    ns: NS,
                    pod,
                    sa,
                    ports: &[PORT],
                };
                proxies.push(start_proxy(
                    &c,
                    client,
                    &workload("slow-cooker-1", "slow-cooker"),
                    &anchors,
                    &addrs,
                    &dir,
                ));
                proxies.push(start_proxy(
                    &s,
                    bb,
                    &workload("bb-1", "bb"),
                    &anchors,
                    &addrs,
                    &dir,
                ));
                for proxy in &mut proxies {
                    wait_ready(proxy, node.gateway().into()).await;
                }
                ready_ms = Some(started.elapsed().as_millis());
                (&mesh_url, Some(&connect_to))
            }
        };
        // Until a request goes through (and the policy admits it).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let probe = oha_once(&self.oha, client, url, connect_to);
            if probe {
                break;
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = proxies.iter().map(PodProxy::logged).collect();
                panic!(
                    "{name}: no request went through; the proxies logged:\n{}",
                    logs.join("\n---\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let closed = vec!["-c".to_string(), CONNECTIONS.to_string()];
        let open = |rate: f64| {
            vec![
                "-q".to_string(),
                format!("{rate:.0}"),
                "--latency-correction".to_string(),
                "-c".to_string(),
                CONNECTIONS.to_string(),
            ]
        };
        let max = oha(&self.oha, client, url, connect_to, &closed);
        let pids: Vec<u32> = if proxies.is_empty() {
            relays.iter().map(|r| r.0.id()).collect()
        } else {
            proxies.iter().map(PodProxy::pid).collect()
        };
        let meters: Vec<CpuMeter> = pids.iter().map(|pid| CpuMeter::start(*pid)).collect();
        let fixed = oha(&self.oha, client, url, connect_to, &open(FIXED_RATE));
        let cpu: Vec<f64> = meters.into_iter().map(CpuMeter::cpu_ms).collect();
        let half = oha(&self.oha, client, url, connect_to, &open(max.rps / 2.0));
        let requests = fixed.rps * DURATION_S as f64;
        let cpu_us = match cpu.as_slice() {
            [c, s] if requests > 0.0 => Some((c * 1000.0 / requests, s * 1000.0 / requests)),
            _ => None,
        };
        let rss_mib = match pids.as_slice() {
            [c, s] => Some((
                memory_kib(*c).0 as f64 / 1024.0,
                memory_kib(*s).0 as f64 / 1024.0,
            )),
            _ => None,
        };
        drop((proxies, relays, plane));
        let _ = std::fs::remove_dir_all(&dir);
        Row {
            name: name.to_string(),
            max,
            fixed,
            half,
            cpu_us,
            rss_mib,
            ready_ms,
        }
    }
}

/// One request through `url`, true when it was answered 200.
fn oha_once(oha: &Path, pod: &Pod, url: &str, connect_to: Option<&str>) -> bool {
    let mut command = pod.command(oha, None);
    command.args(["--no-tui", "--output-format", "json", "-n", "1"]);
    if let Some(connect_to) = connect_to {
        command.args(["--connect-to", connect_to]);
    }
    command.arg(url);
    command
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
        .and_then(|report| report["statusCodeDistribution"]["200"].as_u64())
        == Some(1)
}

fn print(rows: &[Row]) {
    let (Some(direct), Some(relays)) = (rows.first(), rows.get(1)) else {
        return;
    };
    println!(
        "in pods (network namespaces, iptables as proxy-init), HTTP/1.1 keep-alive, 1 KiB answers,"
    );
    println!(
        "{CONNECTIONS} connections, {DURATION_S} s per run; ratios to direct / to the two relays"
    );
    println!();
    println!(
        "{:<28} {:>9} {:>13} {:>9} {:>9} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9} {:>15} {:>13} {:>7}",
        "",
        "max rps",
        "x direct/relay",
        "p50",
        "p99",
        "p99.9",
        "+p99",
        "@50% rps",
        "p50",
        "p99",
        "p99.9",
        "CPU us/req c/s",
        "RSS MiB c/s",
        "ready"
    );
    for row in rows {
        let cpu = row
            .cpu_us
            .map(|(c, s)| format!("{c:.1}/{s:.1}"))
            .unwrap_or_else(|| "-".into());
        let rss = row
            .rss_mib
            .map(|(c, s)| format!("{c:.1}/{s:.1}"))
            .unwrap_or_else(|| "-".into());
        let ready = row
            .ready_ms
            .map(|ms| format!("{ms}ms"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<28} {:>9.0} {:>6.2}/{:<6.2} {:>9.3} {:>9.3} {:>9.3} {:>+9.3} {:>11.0} {:>9.3} {:>9.3} {:>9.3} {:>15} {:>13} {:>7}",
            row.name,
            row.max.rps,
            row.max.rps / direct.max.rps,
            row.max.rps / relays.max.rps,
            row.fixed.p50_ms,
            row.fixed.p99_ms,
            row.fixed.p999_ms,
            row.fixed.p99_ms - direct.fixed.p99_ms,
            row.half.rps,
            row.half.p50_ms,
            row.half.p99_ms,
            row.half.p999_ms,
            cpu,
            rss,
            ready,
        );
    }
    let worst = rows
        .iter()
        .map(|r| r.max.success.min(r.fixed.success).min(r.half.success))
        .fold(1.0, f64::min);
    println!();
    println!(
        "latencies in ms at 1,000 rps and at half the row's own max; +p99: added to direct's p99 at 1,000 rps"
    );
    println!("lowest success rate of any run: {worst:.4}");
}

fn main() -> std::process::ExitCode {
    if let Ok(spec) = std::env::var(RELAY) {
        return match relay_spec(&spec) {
            Ok((listen, target)) => {
                run_relay(listen, target);
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {RELAY}: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    if let Some(reason) = why_unavailable() {
        eprintln!("error: {reason}");
        return std::process::ExitCode::FAILURE;
    }
    let strait = std::env::var_os("STRAIT_PROXY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("STRAIT_PROXY_BIN: the strait-proxy binary to run proxies with"));
    let linkerd = Sidecar::linkerd();
    let bench = Bench {
        oha: std::env::var_os("OHA")
            .map(PathBuf::from)
            .unwrap_or_else(|| "oha".into()),
        me: std::env::current_exe().unwrap_or_else(|e| panic!("own path: {e}")),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let strait = Sidecar::Strait(strait);
    runtime.block_on(async move {
        let mut setups = vec![
            ("direct".to_string(), Setup::Direct),
            ("two plain relays".to_string(), Setup::Relays),
            ("strait -> strait".to_string(), Setup::Pair { client: strait.clone(), server: strait.clone() }),
        ];
        match &linkerd {
            Some(linkerd) => {
                setups.push(("linkerd -> linkerd".into(), Setup::Pair { client: linkerd.clone(), server: linkerd.clone() }));
                setups.push(("strait -> linkerd".into(), Setup::Pair { client: strait.clone(), server: linkerd.clone() }));
                setups.push(("linkerd -> strait".into(), Setup::Pair { client: linkerd.clone(), server: strait.clone() }));
            }
            None => println!("SKIPPED the linkerd2-proxy rows: LINKERD2_PROXY_BIN names no linkerd2-proxy binary\n"),
        }
        let mut rows = Vec::new();
        for (name, setup) in setups {
            eprintln!("measuring {name}...");
            rows.push(bench.row(&name, setup).await);
        }
        print(&rows);
    });
    std::process::ExitCode::SUCCESS
}
