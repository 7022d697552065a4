//! Running the pod-to-pod example as a user does: a temporary copy of
//! `examples/pod-to-pod`, `strait local up` on it as a child process with
//! its own STRAIT_HOME, and `strait --context ...` commands against it;
//! every child has a timeout and is stopped when its guard drops.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long one `strait --context ...` command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A temporary directory with a STRAIT_HOME and a copy of the example,
/// removed on drop.
pub struct Workspace {
    pub root: PathBuf,
    pub home: PathBuf,
    pub dir: PathBuf,
}

impl Workspace {
    /// A copy of `examples/pod-to-pod` without the files named in `skip`
    /// (paths relative to the example, such as `west/link.yaml`).
    pub fn new(tag: &str, skip: &[&str]) -> Workspace {
        Workspace::of_example("pod-to-pod", tag, skip)
    }

    /// A copy of `examples/<example>` without the files named in `skip`.
    pub fn of_example(example: &str, tag: &str, skip: &[&str]) -> Workspace {
        let root = std::env::temp_dir().join(format!("strait-guide-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let home = root.join("home");
        let dir = root.join(example);
        std::fs::create_dir_all(&home).unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../examples")
            .join(example);
        copy_dir(&source, &dir, &source, skip);
        Workspace { root, home, dir }
    }

    /// The path of `name` in the repository's example, to read only.
    pub fn example(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../examples/pod-to-pod")
            .join(name)
    }

    /// The path of `name` inside the copy.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Rewrites `name` inside the copy, asserting `from` is there.
    pub fn edit(&self, name: &str, from: &str, to: &str) {
        let path = self.path(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{name} does not contain {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    /// A `strait` command with this workspace's STRAIT_HOME.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_strait"));
        command
            .env("STRAIT_HOME", &self.home)
            .env("HOME", &self.home)
            .env("KUBECONFIG", self.home.join("kubeconfig"))
            .env_remove("RUST_LOG");
        command
    }

    /// Runs `strait ARGS` (stdin from `stdin`), failing the test after
    /// [`COMMAND_TIMEOUT`].
    pub fn strait(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        output_within(child, stdin, COMMAND_TIMEOUT, &args.join(" "))
    }

    /// Runs `strait ARGS`, asserting it succeeds; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.strait(args, None);
        assert!(
            output.status.success(),
            "strait {} failed: {}\n{}",
            args.join(" "),
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// Starts `strait local up` on the copy, with `extra` arguments, and
    /// waits until both contexts answer and every pod runs.
    pub fn local_up(&self, extra: &[&str]) -> LocalUp {
        let up = self.start_local_up(extra);
        self.wait_running();
        up
    }

    /// Starts `strait local up` on the copy, with `extra` arguments, and
    /// waits until both contexts answer (clusters may run no pods yet).
    pub fn start_local_up(&self, extra: &[&str]) -> LocalUp {
        let run = std::fs::read_dir(&self.root)
            .map(|d| d.count())
            .unwrap_or(0);
        let stdout = self.root.join(format!("up-{run}.out"));
        let stderr = self.root.join(format!("up-{run}.err"));
        let child = self
            .command()
            .arg("local")
            .arg("up")
            .arg(&self.dir)
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("STRAIT_GUIDE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut up = LocalUp {
            child: Guard(Some(child)),
            stdout,
            stderr,
            started: Instant::now(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = up.child.try_wait() {
                panic!(
                    "strait local up exited early ({status}):\n{}\n{}",
                    up.stdout_text(),
                    up.stderr_text()
                );
            }
            let ready = ["east", "west"].iter().all(|cluster| {
                self.strait(&["--context", cluster, "get", "ns"], None)
                    .status
                    .success()
            });
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "strait local up not ready after 60s:\n{}",
                up.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        up
    }

    /// The pods of `mc-demo` in `cluster`, as `get pods -o json` gives them.
    pub fn pods(&self, cluster: &str) -> Vec<serde_json::Value> {
        let out = self.ok(&[
            "--context",
            cluster,
            "get",
            "pods",
            "-n",
            "mc-demo",
            "-o",
            "json",
        ]);
        let list: serde_json::Value = serde_json::from_str(&out).unwrap();
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until every pod of `mc-demo` in both clusters runs with an
    /// address; fails at once, saying why, on a pod that cannot start.
    pub fn wait_running(&self) {
        eventually(Duration::from_secs(30), "every pod running", || {
            let mut all = Vec::new();
            for cluster in ["east", "west"] {
                all.extend(self.pods(cluster));
            }
            for pod in &all {
                if let Some(reason) = pod["status"]["reason"].as_str() {
                    panic!(
                        "pod {} cannot run ({reason}): {}",
                        pod["metadata"]["name"], pod["status"]["message"]
                    );
                }
            }
            let running = !all.is_empty()
                && all.iter().all(|p| {
                    p["status"]["phase"] == "Running"
                        && p["status"]["podIP"]
                            .as_str()
                            .is_some_and(|ip| !ip.is_empty())
                });
            running.then_some(())
        });
    }

    /// `strait --context east viz stat -n mc-demo deploy -t WINDOW` (plus
    /// `extra`), parsed; no rows when viz found no traffic at all.
    pub fn viz(&self, cluster: &str, what: &str, window: &str, extra: &[&str]) -> Table {
        let mut args = vec![
            "--context",
            cluster,
            "viz",
            what,
            "-n",
            "mc-demo",
            "deploy",
            "-t",
            window,
        ];
        args.extend_from_slice(extra);
        Table::parse(&self.ok(&args))
    }

    /// The names `get svc -n mc-demo` lists in `cluster`.
    pub fn services(&self, cluster: &str) -> Vec<String> {
        let out = self.ok(&["--context", cluster, "-n", "mc-demo", "get", "svc"]);
        Table::parse(&out)
            .rows
            .iter()
            .map(|r| r["NAME"].clone())
            .collect()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn copy_dir(from: &Path, to: &Path, base: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // State a run may have left in the example is not the example.
        if name.starts_with('.') {
            continue;
        }
        let relative = path
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if skip.contains(&relative.as_str()) {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name), base, skip);
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits for `child` (writing `stdin` first), killing it and failing the
/// test when it takes longer than `timeout`.
pub fn output_within(
    mut child: Child,
    stdin: Option<&str>,
    timeout: Duration,
    what: &str,
) -> Output {
    if let Some(mut pipe) = child.stdin.take()
        && let Some(input) = stdin
    {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    let pid = child.id();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match receive.recv_timeout(timeout) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            signal(pid, "KILL");
            panic!("`strait {what}` did not finish within {timeout:?}");
        }
    }
}

/// Sends `SIGNAL` to `pid` with the `kill` command.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A child process stopped on drop: SIGTERM, then SIGKILL if it has not
/// exited within ten seconds.
pub struct Guard(pub Option<Child>);

impl Guard {
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.0.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits up to `timeout` for the child to exit by itself.
    pub fn wait_for(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then up to `timeout` for the child to exit.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.try_wait() {
            return Some(status);
        }
        if let Some(child) = &self.0 {
            signal(child.id(), "TERM");
        }
        self.wait_for(timeout)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.terminate(Duration::from_secs(10)).is_none()
            && let Some(child) = self.0.as_mut()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A running `strait local up`.
pub struct LocalUp {
    child: Guard,
    stdout: PathBuf,
    stderr: PathBuf,
    pub started: Instant,
}

impl LocalUp {
    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sleeps until `elapsed` after the start.
    pub fn sleep_until(&self, elapsed: Duration) {
        if let Some(left) = (self.started + elapsed).checked_duration_since(Instant::now()) {
            std::thread::sleep(left);
        }
    }

    /// Stops it with SIGTERM; what it printed (the final tables).
    pub fn stop(mut self) -> String {
        let status = self.child.terminate(Duration::from_secs(60));
        self.finished(status)
    }

    /// Waits up to `timeout` for a `--duration` run to end by itself.
    pub fn wait(mut self, timeout: Duration) -> String {
        let status = self.child.wait_for(timeout);
        self.finished(status)
    }

    fn finished(&self, status: Option<ExitStatus>) -> String {
        let status = status.unwrap_or_else(|| panic!("strait local up did not exit"));
        assert!(
            status.success(),
            "strait local up failed ({status}):\n{}\n{}",
            self.stdout_text(),
            self.stderr_text()
        );
        self.stdout_text()
    }
}

impl Drop for LocalUp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.stderr_text();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            eprintln!("--- strait local up, last lines of stderr ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// A table as viz or get prints it: one map per row from header to cell.
#[derive(Debug, Default)]
pub struct Table {
    pub rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    /// Parses columns split by spaces. A row one cell short has an empty
    /// AUTHORIZATION (the refused requests of `viz authz`).
    pub fn parse(text: &str) -> Table {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let Some(header) = lines.next() else {
            return Table::default();
        };
        let headers: Vec<&str> = header.split_whitespace().collect();
        let empty_at = headers.iter().position(|h| *h == "AUTHORIZATION");
        let rows = lines
            .map(|line| {
                let mut cells: Vec<String> = line.split_whitespace().map(str::to_string).collect();
                if cells.len() + 1 == headers.len()
                    && let Some(at) = empty_at
                {
                    cells.insert(at, String::new());
                }
                assert_eq!(cells.len(), headers.len(), "row {line:?} of\n{text}");
                headers.iter().map(|h| h.to_string()).zip(cells).collect()
            })
            .collect();
        Table { rows }
    }

    /// The first row whose `column` is `value`.
    pub fn row(&self, column: &str, value: &str) -> Option<&BTreeMap<String, String>> {
        self.rows.iter().find(|r| r[column] == value)
    }
}

/// The table printed after `$ strait --context CLUSTER COMMAND` in the
/// output of `local up`.
pub fn section(out: &str, cluster: &str, command: &str) -> Table {
    let marker = format!("$ strait --context {cluster} {command}\n");
    let Some(start) = out.find(&marker) else {
        panic!("no {marker:?} in:\n{out}");
    };
    let rest = &out[start + marker.len()..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    Table::parse(&rest[..end])
}

/// A rate cell (`10.0rps`) as a number; `-` (no traffic) is zero.
pub fn rate(cell: &str) -> f64 {
    if cell == "-" {
        return 0.0;
    }
    cell.strip_suffix("rps")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{cell:?} is not a rate"))
}

/// Asserts `cell` is a rate within `tolerance` (a fraction) of `expected`.
pub fn assert_rate(cell: &str, expected: f64, tolerance: f64, what: &str) {
    let value = rate(cell);
    assert!(
        (value - expected).abs() <= expected * tolerance,
        "{what}: {value} rps, expected {expected} ± {:.0}%",
        tolerance * 100.0
    );
}

/// The body of `GET http://ADDR/PATH` (HTTP/1.0, ten seconds at most).
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::Read;
    let timeout = Some(Duration::from_secs(10));
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(timeout).unwrap();
    stream.set_write_timeout(timeout).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = text(&response);
    match response.split_once("\r\n\r\n") {
        Some((_, body)) => body.to_string(),
        None => response,
    }
}

/// Polls `check` every half second until it returns `Some`, failing the
/// test with `what` after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, check: impl FnMut() -> Option<T>) -> T {
    strait_test_support::poll::eventually_blocking(timeout, Duration::from_millis(500), what, check)
}
