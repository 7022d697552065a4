//! Instructions per request in each proxy: a figure that, unlike wall
//! time on a shared 2-core machine, comes out the same run after run, so a
//! change that saves 2% shows as 2%.
//!
//! Both proxies run under callgrind. They are warmed first (connections
//! made, series created, plugin instances ready) with [`WARMUP`]
//! requests; then their counters are zeroed, a fixed number of requests is
//! sent one at a time on one HTTP/1.1 keep-alive connection, and each
//! proxy's counters are dumped. One request at a time leaves nothing to
//! chance: no batching of writes that depends on timing. The count covers
//! all a proxy did meanwhile, its timers and control-plane streams
//! included; those are counted again while idle for as long and shown
//! beside, so that a change in them is not mistaken for one on the
//! request's path.
//!
//! The dumps stay in the target directory, for `callgrind_annotate`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Mesh, ProxyProcess, mesh, oha};

/// Set to the number of requests to count over: runs this mode.
pub(crate) const REQUESTS: &str = "POD_TO_POD_INSTRUCTIONS";

/// Requests sent before counting.
const WARMUP: &str = "1000";

/// How long proxies under callgrind may take to start (it slows them
/// some fifty times).
const PATIENCE: Duration = Duration::from_secs(600);

/// Plugin instances a proxy may have under callgrind: each reserves
/// about 8 GiB of address space, and callgrind's is some 32 GiB; a proxy
/// with one worker thread uses one at a time.
const PLUGIN_INSTANCES: &str = "STRAIT_PROXY_PLUGIN_MAX_INSTANCES=3";

/// The command a proxy named `name` runs under: callgrind, writing its
/// dumps to `dir`.
fn callgrind(dir: &Path, name: &str) -> Vec<String> {
    vec![
        "env".to_string(),
        PLUGIN_INSTANCES.to_string(),
        "valgrind".to_string(),
        "-q".to_string(),
        "--tool=callgrind".to_string(),
        "--dump-instr=no".to_string(),
        format!("--callgrind-out-file={}", dir.join(name).display()),
    ]
}

/// Asks the callgrind of process `pid` to do `action` (`--zero`,
/// `--dump=...`); returns once it has.
fn control(pid: u32, action: &str) {
    let status = Command::new("callgrind_control")
        .arg(action)
        .arg(pid.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run callgrind_control");
    assert!(status.success(), "callgrind_control {action} {pid} failed");
}

/// Dumps the counters of the proxy `name` and returns the dump's file and
/// its instruction count.
fn dump(dir: &Path, name: &str, proxy: &ProxyProcess, what: &str) -> (PathBuf, u64) {
    let before = dumps(dir, name);
    control(proxy.child.id(), &format!("--dump={what}"));
    let file = dumps(dir, name)
        .into_iter()
        .find(|f| !before.contains(f))
        .expect("callgrind wrote a dump");
    let text = std::fs::read_to_string(&file).expect("read the dump");
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a dump with a total");
    (file, total)
}

/// The dumps of the proxy `name` so far.
fn dumps(dir: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!("{name}.");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Counts instructions per request in both proxies over `requests`
/// requests, and prints them.
pub(crate) async fn run(strait: &str, oha_bin: &str, requests: u64) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pod_to_pod_callgrind");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory for the dumps");
    let Mesh {
        plane,
        bb,
        client,
        host,
        client_outbound,
        ..
    } = mesh(strait, |name| callgrind(&dir, name), PATIENCE).await;
    let url = format!("http://{host}/");
    let connect_to = format!("{host}:{client_outbound}");
    let load = |n: &str| {
        let run = oha(oha_bin, &url, Some(&connect_to), &["-n", n, "-c", "1"]);
        assert!(
            run.success == 1.0,
            "every request must succeed: {}",
            run.success
        );
    };
    let names = ["bb", "slow-cooker"];
    let proxies = [&bb, &client];

    load(WARMUP);
    for proxy in proxies {
        control(proxy.child.id(), "--zero");
    }
    let started = Instant::now();
    load(&requests.to_string());
    let elapsed = started.elapsed();
    let loaded = [0, 1].map(|i| dump(&dir, names[i], proxies[i], "load"));
    for proxy in proxies {
        control(proxy.child.id(), "--zero");
    }
    tokio::time::sleep(elapsed).await;
    let idle = [0, 1].map(|i| dump(&dir, names[i], proxies[i], "idle"));
    drop((bb, client, plane));

    println!(
        "instructions per request: client -> slow-cooker proxy -> (mTLS, Wasm authz) -> bb proxy -> app"
    );
    println!(
        "{requests} requests after {WARMUP} to warm up, one at a time on one HTTP/1.1 keep-alive \
         connection, 1 KiB responses; {:.0} s under callgrind",
        elapsed.as_secs_f64()
    );
    println!();
    println!(
        "{:<20} {:>16} {:>22}",
        "", "instr/request", "of which idle work"
    );
    for ((name, (file, total)), (_, idle_total)) in names.iter().zip(&loaded).zip(&idle) {
        println!(
            "{:<20} {:>16.0} {:>22.0}   {}",
            format!("{name} proxy"),
            *total as f64 / requests as f64,
            *idle_total as f64 / requests as f64,
            file.display()
        );
    }
    println!();
    println!("profile: callgrind_annotate --inclusive=no <dump>");
}
