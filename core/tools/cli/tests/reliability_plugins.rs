//! Bad plugins pushed into a running mesh: `strait local up` of the
//! pod-to-pod example with the guide's traffic running, then garbage bytes,
//! a core module, components of the wrong world, a 10 MB component, one too
//! large to distribute, a garbage plugin written into the plugins ConfigMap
//! past `strait plugin push`, and a plugin that loops, exhausts memory and
//! traps on chosen requests. Each is refused with a clear message (by the
//! push, or in the status ConfigMap's annotation) or contained at call time
//! (the request it was asked about is denied); bb keeps serving slow-cooker
//! at 100% throughout.

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use guide::{Workspace, assert_rate, eventually, text};
use strait_default_plugins::fixtures;

/// The rate each of the example's clients sends at.
const QPS: f64 = 10.0;
/// The clients sleep 5 s before they start, then a full 15 s window.
const SETTLE: Duration = Duration::from_secs(22);
/// Where the control plane reports the authz plugin's outcome: an
/// annotation of the status ConfigMap beside the plugins ConfigMap.
const STATUS: &str = "status.strait.io/authz.wasm";

/// bb serves slow-cooker at 100% over the last 15 s, and, when
/// `evil_refused`, refuses slow-cooker-evil as the guide's policy says.
fn assert_serving(ws: &Workspace, evil_refused: bool, what: &str) {
    let stat = ws.viz("east", "stat", "15s", &[]);
    let bb = stat
        .row("NAME", "bb")
        .unwrap_or_else(|| panic!("{what}: no bb in {stat:?}"));
    assert_eq!(bb["SUCCESS"], "100.00%", "{what}: {bb:?}");
    if !evil_refused {
        return;
    }
    let authz = ws.viz("east", "authz", "15s", &[]);
    let admitted = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .unwrap_or_else(|| panic!("{what}: no bb-authz row in {authz:?}"));
    assert_rate(&admitted["RPS"], QPS, 0.15, what);
    let refused = authz
        .row("AUTHORIZATION", "")
        .unwrap_or_else(|| panic!("{what}: slow-cooker-evil is no longer refused: {authz:?}"));
    assert_rate(&refused["UNAUTHORIZED"], QPS, 0.15, what);
}

/// `strait plugin push --kind authz FILE`: exit status, stdout, stderr.
fn push(ws: &Workspace, file: &std::path::Path, version: &str) -> (bool, String, String) {
    let out = ws.strait(
        &[
            "--context",
            "east",
            "plugin",
            "push",
            "--kind",
            "authz",
            &file.to_string_lossy(),
            "--plugin-version",
            version,
        ],
        None,
    );
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Asserts the push of `bytes` is refused before anything is written, with
/// a message containing `reason`.
fn assert_push_refused(ws: &Workspace, name: &str, bytes: &[u8], reason: &str) {
    let file = ws.root.join(name);
    std::fs::write(&file, bytes).unwrap();
    let (ok, stdout, stderr) = push(ws, &file, name);
    println!("{name}: {}", stderr.trim());
    assert!(!ok, "{name} was pushed: {stdout}");
    assert!(stderr.contains("nothing was pushed"), "{name}: {stderr}");
    assert!(stderr.contains(reason), "{name}: {stderr}");
}

/// The authz status annotation of the status ConfigMap in east; empty
/// while there is no such ConfigMap.
fn status(ws: &Workspace) -> String {
    let out = ws.strait(
        &[
            "--context",
            "east",
            "-n",
            "linkerd",
            "get",
            "configmap",
            "strait-plugins-status",
            "-o",
            "json",
        ],
        None,
    );
    if !out.status.success() {
        return String::new();
    }
    let config_map: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    config_map["metadata"]["annotations"][STATUS]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `bytes` with a custom section of `size` bytes appended: still a valid
/// component, and its behaviour unchanged.
fn padded(bytes: &[u8], size: usize) -> Vec<u8> {
    strait_default_plugins::fixtures::with_custom_section(bytes, "padding", &vec![0x5a; size])
}

/// The status code and how long `GET PATH` to bb's pod address took, sent
/// from this process (a client outside the mesh).
fn get_bb(address: &str, path: &str) -> (String, Duration) {
    let start = Instant::now();
    // From an address of its own: 127.0.0.1 is loopback, which policy
    // always admits without asking the plugin.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.9.9.9:0".parse().unwrap()).unwrap();
        socket.connect(address.parse().unwrap()).await.unwrap()
    });
    let mut stream: TcpStream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: bb.mc-demo.svc.cluster.local:8080\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = text(&response);
    let code = response
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("no response")
        .to_string();
    (code, start.elapsed())
}

#[test]
fn bad_plugins_are_refused_or_contained_while_bb_serves() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("bad-plugins", &[]);
    let up = ws.local_up(&[]);
    up.sleep_until(SETTLE);
    assert_serving(&ws, true, "before any plugin");
    let default = std::fs::read(fixtures::AUTHZ_DEFAULT).unwrap();

    // Refused by the push itself: nothing reaches the cluster.
    assert_push_refused(
        &ws,
        "garbage.wasm",
        b"\x13\x37 not a plugin",
        "is not a Wasm component",
    );
    assert_push_refused(
        &ws,
        "core-module.wat",
        b"(module (func (export \"authorize\") (loop (br 0))))",
        "the WAT text is a core module",
    );
    assert_push_refused(&ws, "empty.wat", b"(component)", "is not an authz plugin");
    let export = std::fs::read(fixtures::EXPORT_DEFAULT).unwrap();
    assert_push_refused(
        &ws,
        "export-as-authz.wasm",
        &export,
        "is not an authz plugin",
    );
    assert!(status(&ws).is_empty(), "a refused push reached the cluster");

    // Past the push: garbage written straight into the ConfigMap is
    // refused by the control plane, which says so in the status.
    let garbage = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strait-plugins\n  \
                   namespace: linkerd\nbinaryData:\n  authz.wasm: bm90IGEgcGx1Z2lu\n";
    let out = ws.strait(&["--context", "east", "apply", "-f", "-"], Some(garbage));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reported = eventually(Duration::from_secs(10), "the rejection reported", || {
        Some(status(&ws)).filter(|s| s.starts_with("rejected:"))
    });
    println!("garbage in the ConfigMap: {reported}");
    assert!(reported.contains("is not a Wasm component"), "{reported}");

    // A 10 MB component (the default plugin plus a 10 MB custom section)
    // is accepted, distributed and decides as the default does.
    let big = ws.root.join("big.wasm");
    std::fs::write(&big, padded(&default, 10 << 20)).unwrap();
    let (ok, stdout, stderr) = push(&ws, &big, "big");
    assert!(ok, "{stdout}{stderr}");
    let reported = eventually(Duration::from_secs(30), "the 10 MB plugin active", || {
        Some(status(&ws)).filter(|s| s.starts_with("active big"))
    });
    println!("10 MB component: {reported}");
    // One too large for the proxies' stream (16 MiB) is refused where it
    // is loaded; the 10 MB one stays active.
    let huge = ws.root.join("huge.wasm");
    std::fs::write(&huge, padded(&default, 17 << 20)).unwrap();
    let (ok, stdout, stderr) = push(&ws, &huge, "huge");
    assert!(ok, "{stdout}{stderr}");
    let reported = eventually(Duration::from_secs(30), "the 17 MB plugin rejected", || {
        Some(status(&ws)).filter(|s| s.starts_with("rejected:"))
    });
    println!("17 MB component: {reported}");
    assert!(reported.contains("still active: big"), "{reported}");
    std::thread::sleep(Duration::from_secs(16));
    assert_serving(&ws, true, "after the refused and the 10 MB plugins");

    // Contained at call time: the faulty plugin passes validation (it
    // admits the smoke call) and misbehaves only on chosen paths.
    let faulty = std::fs::read(fixtures::AUTHZ_FAULTY).unwrap();
    let file = ws.root.join("faulty.wasm");
    std::fs::write(&file, &faulty).unwrap();
    let (ok, stdout, stderr) = push(&ws, &file, "faulty");
    assert!(ok, "{stdout}{stderr}");
    eventually(Duration::from_secs(30), "the faulty plugin active", || {
        Some(status(&ws)).filter(|s| s.starts_with("active faulty"))
    });
    let bb = ws
        .pods("east")
        .into_iter()
        .find(|p| p["metadata"]["labels"]["app"] == "bb")
        .expect("bb's pod");
    let address = format!("{}:8080", bb["status"]["podIP"].as_str().unwrap());
    eventually(
        Duration::from_secs(20),
        "the faulty plugin deciding",
        || (get_bb(&address, "/").0 == "200").then_some(()),
    );
    // A runaway loop and a memory bomb are stopped and denied with 403.
    for path in ["/loop", "/grow"] {
        for _ in 0..5 {
            let (code, took) = get_bb(&address, path);
            println!("{path}: {code} in {took:?}");
            assert_eq!(code, "403", "{path} was not denied");
            assert!(took < Duration::from_secs(2), "{path} took {took:?}");
        }
    }
    // A trap is denied with 403 too: the panic message the plugin writes
    // to its stderr is captured on the proxy's thread, without a runtime.
    for _ in 0..5 {
        let (code, took) = get_bb(&address, "/trap");
        println!("/trap: {code} in {took:?}");
        assert_eq!(code, "403", "/trap was not denied");
        assert!(took < Duration::from_secs(2), "/trap took {took:?}");
    }
    let (code, _) = get_bb(&address, "/");
    assert_eq!(code, "200", "the plugin stopped serving after the faults");
    std::thread::sleep(Duration::from_secs(16));
    // The fixture admits every other request, slow-cooker-evil's too.
    assert_serving(&ws, false, "after the faulty calls");

    // Back to the default plugin: slow-cooker-evil is refused again.
    let file = ws.root.join("default.wasm");
    std::fs::write(&file, &default).unwrap();
    let (ok, stdout, stderr) = push(&ws, &file, "default-again");
    assert!(ok, "{stdout}{stderr}");
    eventually(Duration::from_secs(30), "the default plugin active", || {
        Some(status(&ws)).filter(|s| s.starts_with("active default-again"))
    });
    std::thread::sleep(Duration::from_secs(16));
    assert_serving(&ws, true, "back on the default plugin");
    up.stop();
}
