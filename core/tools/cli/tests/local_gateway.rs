//! The gateway example end to end: `strait local up --duration 35s` on a
//! copy of `examples/gateway`, as a user runs it, and the tables it prints
//! when it stops: west's slow-cooker reaches bb in east through east's
//! gateway pod, and bb sees the gateway, not slow-cooker, as its client.

#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The rate the example's slow-cooker sends at.
const QPS: f64 = 10.0;
/// How long `local up` may take beyond its `--duration` to print and stop.
const GRACE: Duration = Duration::from_secs(60);

/// Keeps this file's `local up` runs one after the other; [`one_mesh`]
/// keeps them apart from other test binaries' runs.
static SEQUENTIAL: Mutex<()> = Mutex::new(());

fn sequential() -> MutexGuard<'static, ()> {
    SEQUENTIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A temporary copy of the example and a STRAIT_HOME, removed on drop.
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn new(tag: &str) -> Workspace {
        let root =
            std::env::temp_dir().join(format!("strait-gateway-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("home")).unwrap();
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples/gateway");
        copy_dir(&example, &root.join("gateway"));
        Workspace { root }
    }

    /// Runs `strait local up` on the copy for `duration`; its stdout.
    fn local_up(&self, duration: &str, limit: Duration) -> String {
        let home = self.root.join("home");
        let stderr_path = self.root.join("up.err");
        let mut child = Command::new(env!("CARGO_BIN_EXE_strait"))
            .args(["local", "up"])
            .arg(self.root.join("gateway"))
            .args(["--duration", duration])
            .env("STRAIT_HOME", &home)
            .env("HOME", &home)
            .env("KUBECONFIG", home.join("kubeconfig"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "strait local up did not stop within {limit:?}:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let out = reader.join().unwrap();
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        assert!(
            status.success(),
            "strait local up failed ({status}):\n{out}\n{err}"
        );
        assert!(!err.contains("cannot run"), "a pod could not run:\n{err}");
        out
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Copies the example's YAML files (not the state a run leaves behind).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// The table printed after `$ strait --context CLUSTER COMMAND`: its
/// header's column names and each row's cells, split on whitespace (the
/// rows read here have no empty cell).
fn section(out: &str, cluster: &str, command: &str) -> Vec<Vec<String>> {
    let title = format!("$ strait --context {cluster} {command}");
    let mut lines = out.lines().skip_while(|l| *l != title);
    assert!(lines.next().is_some(), "no {title:?} in:\n{out}");
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The cell of `column` in the first row whose `key` column is `value`.
fn cell(table: &[Vec<String>], key: &str, value: &str, column: &str) -> Option<String> {
    let header = table.first()?;
    let key = header.iter().position(|c| c == key)?;
    let column = header.iter().position(|c| c == column)?;
    table[1..]
        .iter()
        .find(|row| row.get(key).map(String::as_str) == Some(value))
        .and_then(|row| row.get(column).cloned())
}

/// Asserts `rps` (`10.1rps`) is `QPS` within 15%.
fn assert_rate(rps: Option<String>, what: &str, out: &str) {
    let rate: f64 = rps
        .as_deref()
        .and_then(|r| r.strip_suffix("rps"))
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{what}: no rate ({rps:?}) in:\n{out}"));
    assert!(
        (QPS * 0.85..=QPS * 1.15).contains(&rate),
        "{what}: {rate} rps, not about {QPS}:\n{out}"
    );
}

#[test]
fn west_reaches_bb_through_easts_gateway() {
    let _sequential = sequential();
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("final");
    let out = ws.local_up("35s", Duration::from_secs(35) + GRACE);

    let stat = section(&out, "east", "viz stat -n mc-demo deploy");
    assert_eq!(
        cell(&stat, "NAME", "bb", "MESHED").as_deref(),
        Some("1/1"),
        "{out}"
    );
    assert_eq!(
        cell(&stat, "NAME", "bb", "SUCCESS").as_deref(),
        Some("100.00%"),
        "{out}"
    );
    assert_rate(cell(&stat, "NAME", "bb", "RPS"), "bb's viz stat", &out);

    // Behind the gateway every caller is the gateway: no policy names it,
    // so bb admits it by the default policy, at slow-cooker's rate.
    let authz = section(&out, "east", "viz authz -n mc-demo deploy");
    let server = "default:all-unauthenticated";
    assert_eq!(
        cell(&authz, "SERVER", server, "AUTHORIZATION").as_deref(),
        Some("default/all-unauthenticated"),
        "{out}"
    );
    assert_rate(
        cell(&authz, "SERVER", server, "RPS"),
        "bb's viz authz",
        &out,
    );

    // The gateway runs as a meshed pod of its own.
    let gateway = section(&out, "east", "viz stat -n linkerd-multicluster deploy");
    assert_eq!(
        cell(&gateway, "NAME", "linkerd-gateway", "MESHED").as_deref(),
        Some("1/1"),
        "{out}"
    );

    let services = section(&out, "west", "get svc -n mc-demo");
    assert!(
        cell(&services, "NAME", "bb-target", "TYPE").is_some(),
        "no bb-target in west:\n{out}"
    );
}
