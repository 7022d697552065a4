//! The data plane's cost, measured as the guide runs it: a client calling
//! an app directly, against the same client calling through slow-cooker's
//! proxy and bb's proxy (mTLS between them, the default Wasm authz plugin
//! deciding every request). The proxies are separate `strait-proxy`
//! processes (the sidecar binary), so their memory is their own; the control plane and the app
//! run in this process. Load comes from `oha`: the highest throughput
//! (closed loop), then latency at a fixed 1,000 requests per second (open
//! loop, latency corrected for coordinated omission).
//!
//! For scale, the same client also goes through two plain TCP relays (this
//! binary run again as a relay: one thread, bytes copied both ways, nothing
//! parsed): the least any pair of proxies in separate processes can cost
//! on this machine.
//!
//! Run with `core/proxy/integration/benches/pod_to_pod.sh`, which builds the
//! proxy and finds `oha`; it sets `STRAIT_PROXY_BIN` and `OHA`. With
//! `--instructions` it counts each proxy's instructions per request
//! instead ([`instructions`]): wall time on a shared machine varies by
//! ±15% between runs, instruction counts by far less.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use strait_proxy_integration::apps::{kib_app_on, relay_spec, run_relay};
use strait_proxy_integration::{
    ControlAddrs, NS, TlsControlPlane, any_port, free_port, guide, http_get, identity,
    tls_control_plane, trust_root,
};
use strait_store::MemoryStore;
use strait_test_support::bench::memory_kib;
use strait_test_support::poll::eventually_within;
use tokio::net::TcpListener;

const DURATION: &str = "10s";
const CONNECTIONS: &str = "32";
const FIXED_RATE: &str = "1000";

#[path = "pod_to_pod/instructions.rs"]
mod instructions;

/// The app: HTTP/1.1 keep-alive, 1 KiB responses.
async fn app() -> SocketAddr {
    let listener = TcpListener::bind(any_port()).await.expect("bind app");
    let addr = listener.local_addr().expect("app addr");
    kib_app_on(listener);
    addr
}

struct ProxyProcess {
    child: Child,
    admin: SocketAddr,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address of both pods, and of oha, slow-cooker's app here, which
/// connects from it: the only one a proxy serves outbound.
const POD_IP: &str = "127.0.0.1";

fn spawn_proxy(
    strait: &str,
    sa: &str,
    anchors: &str,
    plane: &ControlAddrs,
    outbound: SocketAddr,
    direct: Option<String>,
    wrapper: &[String],
) -> ProxyProcess {
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("admin");
    let workload = json!({"ns": NS, "pod": format!("{sa}-1")}).to_string();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(strait);
            command
        }
        None => Command::new(strait),
    };
    command
        .env_clear()
        .env("LINKERD2_PROXY_LOG", "error")
        .env("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", format!("{POD_IP}:0"))
        .env("LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR", outbound.to_string())
        .env("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", admin.to_string())
        .env("LINKERD2_PROXY_IDENTITY_LOCAL_NAME", identity(sa, NS))
        .env("LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", anchors)
        .env("STRAIT_PROXY_IDENTITY_TOKEN", format!("{sa}-token"))
        .env(
            "LINKERD2_PROXY_IDENTITY_SVC_ADDR",
            plane.identity.0.to_string(),
        )
        .env(
            "LINKERD2_PROXY_DESTINATION_SVC_ADDR",
            plane.destination.0.to_string(),
        )
        .env("LINKERD2_PROXY_POLICY_SVC_ADDR", plane.policy.0.to_string())
        .env("LINKERD2_PROXY_POLICY_WORKLOAD", workload)
        .env("STRAIT_PROXY_SOURCE_IP", POD_IP)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(direct) = direct {
        command.env("STRAIT_PROXY_INBOUND_DIRECT", direct);
    }
    // The control plane as on a cluster: every server proves its identity.
    for (variable, name) in [
        ("LINKERD2_PROXY_IDENTITY_SVC_NAME", &plane.identity.1),
        ("LINKERD2_PROXY_DESTINATION_SVC_NAME", &plane.destination.1),
        ("LINKERD2_PROXY_POLICY_SVC_NAME", &plane.policy.1),
    ] {
        if let Some(name) = name {
            command.env(variable, name);
        }
    }
    let child = command.spawn().expect("spawn strait-proxy");
    ProxyProcess { child, admin }
}

/// Waits up to 30 s for `check` to hold: the processes the bench starts
/// take their time to be certified and to learn the guide's policy.
async fn wait_for(what: &str, check: impl AsyncFnMut() -> bool) {
    wait_within(Duration::from_secs(30), what, check).await;
}

/// [`wait_for`] with its own patience (proxies under an instruction
/// counter start tens of times slower).
async fn wait_within(patience: Duration, what: &str, check: impl AsyncFnMut() -> bool) {
    eventually_within(patience, what, check).await;
}

struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    success: f64,
}

fn oha(oha: &str, url: &str, connect_to: Option<&str>, extra: &[&str]) -> Run {
    let mut command = Command::new(oha);
    command.args(["--no-tui", "--output-format", "json"]);
    command.args(extra);
    if let Some(connect_to) = connect_to {
        command.args(["--connect-to", connect_to]);
    }
    command.arg(url);
    let output = command.output().expect("run oha");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "oha printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let summary = &report["summary"];
    let percentile =
        |p: &str| report["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    Run {
        rps: summary["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50_ms: percentile("p50"),
        p99_ms: percentile("p99"),
        success: summary["successRate"].as_f64().unwrap_or(0.0),
    }
}

/// Set (to `LISTEN=TARGET`) when this binary runs as a relay.
const RELAY: &str = "POD_TO_POD_RELAY";

/// Starts this binary as a relay from `listen` to `target`.
fn spawn_relay(listen: SocketAddr, target: SocketAddr) -> ProxyProcess {
    let me = std::env::current_exe().expect("own path");
    let child = Command::new(me)
        .env(RELAY, format!("{listen}={target}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn relay");
    ProxyProcess {
        child,
        admin: listen,
    }
}

/// The guide's mesh as the bench runs it: the control plane and the app in
/// this process, bb's and slow-cooker's proxies as processes of their own
/// (each run under `wrap(name)`, when that is not empty), ready and
/// answering through both.
struct Mesh {
    plane: TlsControlPlane,
    app: SocketAddr,
    bb: ProxyProcess,
    client: ProxyProcess,
    /// bb's Service authority, as slow-cooker calls it.
    host: String,
    /// slow-cooker's proxy's outbound listener.
    client_outbound: SocketAddr,
}

async fn mesh(strait: &str, wrap: impl Fn(&str) -> Vec<String>, patience: Duration) -> Mesh {
    let port = free_port();
    let store = MemoryStore::new();
    guide(&store, port);
    let root = trust_root();
    let anchors = root.as_trust_anchor().to_pem();
    let plane = tls_control_plane("local", &store, &root, &[(NS, "bb"), (NS, "slow-cooker")]).await;
    let addrs = plane.addrs();
    let app = app().await;
    let bb_listen = format!("127.0.0.1:{port}");
    let client_outbound: SocketAddr = format!("127.0.0.2:{}", free_port())
        .parse()
        .expect("outbound");
    let unused: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("outbound");
    let bb = spawn_proxy(
        strait,
        "bb",
        &anchors,
        &addrs,
        unused,
        Some(format!("{bb_listen}={app}")),
        &wrap("bb"),
    );
    // oha, slow-cooker's app here, connects from 127.0.0.1: that is the
    // pod's address, the only one its proxy serves outbound.
    let client = spawn_proxy(
        strait,
        "slow-cooker",
        &anchors,
        &addrs,
        client_outbound,
        None,
        &wrap("slow-cooker"),
    );
    for proxy in [&bb, &client] {
        let admin = proxy.admin;
        wait_within(patience, "proxy readiness", async || {
            http_get("127.0.0.1", admin, "admin", "/ready").await.0 == 200
        })
        .await;
    }
    let host = format!("bb.{NS}.svc.cluster.local:{port}");
    wait_within(patience, "a request through both proxies", async || {
        http_get("127.0.0.1", client_outbound, &host, "/").await.0 == 200
    })
    .await;
    Mesh {
        plane,
        app,
        bb,
        client,
        host,
        client_outbound,
    }
}

fn main() {
    if let Ok(spec) = std::env::var(RELAY) {
        let (listen, target) = relay_spec(&spec).expect("the relay's addresses");
        run_relay(listen, target);
        return;
    }
    let strait = std::env::var("STRAIT_PROXY_BIN")
        .expect("STRAIT_PROXY_BIN: the strait-proxy binary to run proxies with");
    let oha_bin = std::env::var("OHA").unwrap_or_else(|_| "oha".to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    if let Ok(requests) = std::env::var(instructions::REQUESTS) {
        let requests = requests
            .parse()
            .expect("a number of requests to count over");
        runtime.block_on(instructions::run(&strait, &oha_bin, requests));
        return;
    }
    runtime.block_on(async move {
        let Mesh { plane, app, bb, client, host, client_outbound } =
            mesh(&strait, |_| Vec::new(), Duration::from_secs(30)).await;

        let direct_url = format!("http://{app}/");
        let mesh_url = format!("http://{host}/");
        let connect_to = format!("{host}:{client_outbound}");
        let closed = ["-z", DURATION, "-c", CONNECTIONS];
        let open = ["-z", DURATION, "-q", FIXED_RATE, "--latency-correction", "-c", CONNECTIONS];
        let direct_max = oha(&oha_bin, &direct_url, None, &closed);
        let mesh_max = oha(&oha_bin, &mesh_url, Some(&connect_to), &closed);
        let direct_fixed = oha(&oha_bin, &direct_url, None, &open);
        let mesh_fixed = oha(&oha_bin, &mesh_url, Some(&connect_to), &open);
        let (bb_rss, bb_peak) = memory_kib(bb.child.id());
        let (client_rss, client_peak) = memory_kib(client.child.id());
        drop((bb, client));

        let second: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("relay");
        let first: SocketAddr = format!("127.0.0.2:{}", free_port()).parse().expect("relay");
        let relays = [spawn_relay(second, app), spawn_relay(first, second)];
        let relay_url = format!("http://{first}/");
        wait_for("the relays", async || http_get("127.0.0.1", first, "relay", "/").await.0 == 200).await;
        let relay_max = oha(&oha_bin, &relay_url, None, &closed);
        let relay_fixed = oha(&oha_bin, &relay_url, None, &open);
        drop(relays);

        println!("pod to pod: client -> slow-cooker proxy -> (mTLS, Wasm authz) -> bb proxy -> app");
        println!("control plane over TLS (identity) and mTLS (destination, policy), as on a cluster");
        println!("HTTP/1.1 keep-alive, 1 KiB responses, loopback, {CONNECTIONS} connections, {DURATION} per run");
        println!();
        println!("{:<34} {:>12} {:>12} {:>10} {:>12} {:>10}", "", "direct", "via proxies", "ratio", "via relays", "ratio");
        println!("{:<34} {:>12.0} {:>12.0} {:>9.2}x {:>12.0} {:>9.2}x  (target >= 0.50x)", "max throughput (req/s)",
            direct_max.rps, mesh_max.rps, mesh_max.rps / direct_max.rps,
            relay_max.rps, relay_max.rps / direct_max.rps);
        println!("{:<34} {:>12.3} {:>12.3} {:>+9.3}ms {:>12.3} {:>+9.3}ms", "p50 at 1,000 rps (ms)",
            direct_fixed.p50_ms, mesh_fixed.p50_ms, mesh_fixed.p50_ms - direct_fixed.p50_ms,
            relay_fixed.p50_ms, relay_fixed.p50_ms - direct_fixed.p50_ms);
        println!("{:<34} {:>12.3} {:>12.3} {:>+9.3}ms {:>12.3} {:>+9.3}ms (target added <= 0.300 ms)", "p99 at 1,000 rps (ms)",
            direct_fixed.p99_ms, mesh_fixed.p99_ms, mesh_fixed.p99_ms - direct_fixed.p99_ms,
            relay_fixed.p99_ms, relay_fixed.p99_ms - direct_fixed.p99_ms);
        println!("{:<34} {:>12.4} {:>12.4} {:>10} {:>12.4}", "success rate (max / fixed)",
            direct_max.success.min(direct_fixed.success), mesh_max.success.min(mesh_fixed.success),
            "", relay_max.success.min(relay_fixed.success));
        println!();
        println!("proxy memory after the runs (target RSS <= 20 MiB each):");
        println!("  bb proxy:          RSS {:>6.1} MiB, peak {:>6.1} MiB", bb_rss as f64 / 1024.0, bb_peak as f64 / 1024.0);
        println!("  slow-cooker proxy: RSS {:>6.1} MiB, peak {:>6.1} MiB", client_rss as f64 / 1024.0, client_peak as f64 / 1024.0);
        drop(plane);
    });
}
