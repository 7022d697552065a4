//! Bad plugins pushed into a running mesh: `strait local up` of the
//! pod-to-pod example with the guide's traffic running, then garbage bytes,
//! a core module, components of the wrong world, a 10 MB component, one too
//! large to distribute, a garbage plugin written into the plugins ConfigMap
//! past `strait plugin push`, and a plugin that loops, exhausts memory and
//! traps on chosen requests. Each is refused with a clear message (by the
//! push, or in the status ConfigMap's annotation) or contained at call time
//! (the request it was asked about is denied, and bb's proxy counts the
//! call stopped by its limit); slow-cooker is served throughout, as its
//! own proxy and bb's authorization counters see it.

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;
#[path = "support/swap.rs"]
mod swap;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use guide::{Workspace, assert_rate, eventually, text};
use strait_default_plugins::fixtures;
use strait_test_support::scrape;
use swap::SwapWatch;

/// The rate each of the example's clients sends at.
const QPS: f64 = 10.0;
/// The clients sleep 5 s before they start, then a full 15 s window.
const SETTLE: Duration = Duration::from_secs(22);
/// Where the control plane reports the authz plugin's outcome: an
/// annotation of the status ConfigMap beside the plugins ConfigMap.
const STATUS: &str = "status.strait.io/authz.wasm";

/// slow-cooker was served throughout since `watch`'s last check, and, when
/// `evil_refused`, bb refuses slow-cooker-evil as the guide's policy says
/// (over the last 15 s).
fn assert_serving(ws: &Workspace, watch: &mut SwapWatch, evil_refused: bool, what: &str) {
    watch.assert_served(what);
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

/// The status code of `GET PATH` to bb's pod address, sent from this
/// process (a client outside the mesh).
fn get_bb(address: &str, path: &str) -> String {
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
    text(&response)
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("no response")
        .to_string()
}

/// How many calls of the `faulty` version bb's proxy counted with
/// `outcome` from `before` to `after` (its `plugin_calls_total`).
fn calls(before: &str, after: &str, outcome: &str) -> f64 {
    let outcome = format!("outcome=\"{outcome}\"");
    scrape::increases(
        before,
        after,
        "plugin_calls_total",
        &["plugin=\"authz\"", "version=\"faulty\"", &outcome],
    )
    .iter()
    .fold(0.0, |total, (_, grown)| total + grown)
}

#[test]
fn bad_plugins_are_refused_or_contained_while_bb_serves() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("bad-plugins", &[]);
    let up = ws.local_up(&[]);
    // Watched from some seconds after slow-cooker's first request.
    up.sleep_until(SETTLE - Duration::from_secs(7));
    let mut watch = SwapWatch::start(&ws);
    up.sleep_until(SETTLE);
    let built_in = watch.active().expect("bb's proxy runs an authz plugin");
    assert_serving(&ws, &mut watch, true, "before any plugin");
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
    assert_eq!(
        watch.active(),
        Some(built_in),
        "bb's proxy left its plugin for a rejected one"
    );

    // A 10 MB component (the default plugin plus a 10 MB custom section)
    // is accepted, distributed and decides as the default does.
    let big = ws.root.join("big.wasm");
    std::fs::write(&big, padded(&default, 10 << 20)).unwrap();
    let (ok, stdout, stderr) = push(&ws, &big, "big");
    assert!(ok, "{stdout}{stderr}");
    watch.assert_delivered("big", "the 10 MB plugin");
    let reported = status(&ws);
    assert!(reported.starts_with("active big"), "{reported}");
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
    assert_eq!(watch.active().as_deref(), Some("big"));
    std::thread::sleep(Duration::from_secs(16));
    assert_serving(
        &ws,
        &mut watch,
        true,
        "after the refused and the 10 MB plugins",
    );

    // Contained at call time: the faulty plugin passes validation (it
    // admits the smoke call) and misbehaves only on chosen paths.
    let faulty = std::fs::read(fixtures::AUTHZ_FAULTY).unwrap();
    let file = ws.root.join("faulty.wasm");
    std::fs::write(&file, &faulty).unwrap();
    let (ok, stdout, stderr) = push(&ws, &file, "faulty");
    assert!(ok, "{stdout}{stderr}");
    watch.assert_delivered("faulty", "the faulty plugin");
    let bb = ws
        .pods("east")
        .into_iter()
        .find(|p| p["metadata"]["labels"]["app"] == "bb")
        .expect("bb's pod");
    let address = format!("{}:8080", bb["status"]["podIP"].as_str().unwrap());
    eventually(
        Duration::from_secs(20),
        "the faulty plugin deciding",
        || (get_bb(&address, "/") == "200").then_some(()),
    );
    // A runaway loop, a memory bomb and a trap are each stopped by one of
    // the host's limits (bb's proxy counts the call under that outcome:
    // the bomb meets the deadline or the memory cap, whichever comes
    // first) and denied with 403. The trap's panic message, written to the
    // plugin's stderr, is captured on the proxy's thread, without a runtime.
    let stopped_as: [(&str, &[&str]); 3] = [
        ("/loop", &["timeout"]),
        ("/grow", &["memory_limit", "timeout"]),
        ("/trap", &["trap"]),
    ];
    for (path, outcomes) in stopped_as {
        let before = watch.bb_metrics();
        for _ in 0..5 {
            let code = get_bb(&address, path);
            println!("{path}: {code}");
            assert_eq!(code, "403", "{path} was not denied");
        }
        let after = watch.bb_metrics();
        let stopped: Vec<(&str, f64)> = outcomes
            .iter()
            .map(|outcome| (*outcome, calls(&before, &after, outcome)))
            .collect();
        println!("{path}: stopped as {stopped:?}");
        let total: f64 = stopped.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 5.0, "{path}: calls stopped as {outcomes:?}");
    }
    assert_eq!(
        get_bb(&address, "/"),
        "200",
        "the plugin stopped serving after the faults"
    );
    std::thread::sleep(Duration::from_secs(16));
    // The fixture admits every other request, slow-cooker-evil's too.
    assert_serving(&ws, &mut watch, false, "after the faulty calls");

    // Back to the default plugin: slow-cooker-evil is refused again.
    let file = ws.root.join("default.wasm");
    std::fs::write(&file, &default).unwrap();
    let (ok, stdout, stderr) = push(&ws, &file, "default-again");
    assert!(ok, "{stdout}{stderr}");
    watch.assert_delivered("default-again", "the default plugin again");
    std::thread::sleep(Duration::from_secs(16));
    assert_serving(&ws, &mut watch, true, "back on the default plugin");
    up.stop();
}
