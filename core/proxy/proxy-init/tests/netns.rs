//! The rules applied by the real iptables in a real network namespace: a
//! "pod" namespace with the rules and a "peer" namespace on the other end
//! of a veth pair, proving each redirection with live connections.
//!
//! Needs root, `ip`, `nsenter` and iptables; without them the test says
//! why it skipped and passes, except in CI (`STRAIT_REQUIRE_TOOLS`), where it fails.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use rustix::thread::{Uid, set_thread_uid};
use strait_proxy_init::{Config, Runner};
use strait_test_support::netns::{in_netns, ip, why_unavailable};

const POD_IP: &str = "10.251.0.1";
const PEER_IP: &str = "10.251.0.2";
const PROXY_UID: u32 = 2102;

/// Deletes the namespaces it was given when dropped, whatever happened.
struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// Runs `f` inside namespace `name` ([`in_netns`]).
fn in_ns<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    in_netns(&format!("/var/run/netns/{name}"), f)
}

fn listen(name: &str, addr: &str) -> TcpListener {
    let addr: SocketAddr = addr.parse().expect("address");
    in_ns(name, move || {
        let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        listener.set_nonblocking(true).expect("nonblocking");
        listener
    })
}

/// Connects from namespace `name` (as `uid` when given) and sends `tag`;
/// the error when the connection fails.
fn connect(name: &str, to: &str, uid: Option<u32>, tag: &'static str) -> Result<(), String> {
    let to: SocketAddr = to.parse().expect("address");
    in_ns(name, move || {
        if let Some(uid) = uid {
            // This thread only: it ends after the connection.
            set_thread_uid(Uid::from_raw(uid)).map_err(|e| format!("setuid {uid}: {e}"))?;
        }
        let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(3))
            .map_err(|e| format!("connect {to}: {e}"))?;
        stream
            .write_all(tag.as_bytes())
            .map_err(|e| format!("write to {to}: {e}"))
    })
}

/// The tag sent by the first connection `listener` accepts within `wait`.
fn accepted(listener: &TcpListener, wait: Duration) -> Option<String> {
    let deadline = Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false).expect("blocking");
                stream
                    .set_read_timeout(Some(Duration::from_secs(3)))
                    .expect("timeout");
                let mut tag = String::new();
                stream.read_to_string(&mut tag).expect("read tag");
                return Some(tag);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn rule_lines(saved: &str) -> Vec<String> {
    saved
        .lines()
        .filter(|l| l.starts_with("-A ") || l.starts_with(':'))
        .map(|l| {
            // Chain declarations carry packet counters; drop them.
            l.split(" [").next().unwrap_or(l).to_string()
        })
        .collect()
}

#[test]
fn the_rules_redirect_live_connections_in_a_network_namespace() {
    if let Some(reason) = why_unavailable() {
        strait_test_support::tool_missing!("{reason}");
        return;
    }
    let pid = std::process::id();
    let pod = format!("strait-pi-pod-{pid}");
    let peer = format!("strait-pi-peer-{pid}");
    let mut namespaces = Namespaces(Vec::new());
    for name in [&pod, &peer] {
        if let Err(e) = ip(&["netns", "add", name]) {
            strait_test_support::tool_missing!("cannot create a network namespace here: {e}");
            return;
        }
        namespaces.0.push(name.clone());
    }
    let setup = [
        vec!["-n", &pod, "link", "set", "lo", "up"],
        vec!["-n", &peer, "link", "set", "lo", "up"],
        vec![
            "-n", &pod, "link", "add", "vpod", "type", "veth", "peer", "name", "vpeer", "netns",
            &peer,
        ],
        vec!["-n", &pod, "addr", "add", "10.251.0.1/24", "dev", "vpod"],
        vec!["-n", &peer, "addr", "add", "10.251.0.2/24", "dev", "vpeer"],
        vec!["-n", &pod, "link", "set", "vpod", "up"],
        vec!["-n", &peer, "link", "set", "vpeer", "up"],
    ];
    for args in &setup {
        ip(args).unwrap_or_else(|e| panic!("{e}"));
    }

    let runner = Runner {
        netns: Some(format!("/var/run/netns/{pod}").into()),
        ..Runner::default()
    };
    let config = Config::default();
    runner.apply(&config).unwrap_or_else(|e| panic!("{e}"));

    let short = Duration::from_millis(300);
    let long = Duration::from_secs(3);

    // Inbound: a connection from the peer to any pod port reaches the
    // proxy's inbound port...
    let inbound = listen(&pod, "0.0.0.0:4143");
    let admin = listen(&pod, "0.0.0.0:4191");
    connect(&peer, &format!("{POD_IP}:8080"), None, "to-8080").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accepted(&inbound, long).as_deref(), Some("to-8080"));
    // ...except an ignored port (the admin port), reached directly.
    connect(&peer, &format!("{POD_IP}:4191"), None, "to-admin").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accepted(&admin, long).as_deref(), Some("to-admin"));
    assert_eq!(accepted(&inbound, short), None);

    // Outbound: the application (root here, not the proxy's user) dialing
    // the peer reaches the proxy's outbound port instead...
    let outbound = listen(&pod, "127.0.0.1:4140");
    let remote = listen(&peer, &format!("{PEER_IP}:9999"));
    connect(&pod, &format!("{PEER_IP}:9999"), None, "app").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accepted(&outbound, long).as_deref(), Some("app"));
    assert_eq!(accepted(&remote, short), None);
    // ...while the proxy's own connection leaves as dialed.
    connect(&pod, &format!("{PEER_IP}:9999"), Some(PROXY_UID), "proxy")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accepted(&remote, long).as_deref(), Some("proxy"));
    assert_eq!(accepted(&outbound, short), None);

    // The table holds linkerd2-proxy-init's chains, each jump once...
    let saved = runner.saved_nat().unwrap_or_else(|e| panic!("{e}"));
    let first = rule_lines(&saved);
    for needle in [
        ":PROXY_INIT_REDIRECT -",
        ":PROXY_INIT_OUTPUT -",
        "-j REDIRECT --to-ports 4143",
        "-j REDIRECT --to-ports 4140",
        "--uid-owner 2102",
    ] {
        assert!(saved.contains(needle), "{needle:?} missing from:\n{saved}");
    }
    let count =
        |lines: &[String], prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count(&first, "-A PREROUTING"), 1, "{saved}");
    assert_eq!(count(&first, "-A OUTPUT"), 1, "{saved}");
    assert_eq!(count(&first, "-A PROXY_INIT_REDIRECT"), 2, "{saved}");
    assert_eq!(count(&first, "-A PROXY_INIT_OUTPUT"), 3, "{saved}");

    // ...and running again leaves the same rules, not a second copy.
    runner.apply(&config).unwrap_or_else(|e| panic!("{e}"));
    let again = rule_lines(&runner.saved_nat().unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(again, first);

    // The redirection still works after the second run.
    connect(&peer, &format!("{POD_IP}:8080"), None, "again").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accepted(&inbound, long).as_deref(), Some("again"));
    drop(namespaces);
}
