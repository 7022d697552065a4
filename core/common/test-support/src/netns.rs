//! Pods as network namespaces on one node, wired as a Kubernetes node's
//! bridge plugin wires them: each pod a namespace with its own loopback and
//! an `eth0` (one end of a veth pair), every pair's other end on one bridge
//! in this namespace, which holds the node's address, and a default route
//! through it. Pods reach each other across the bridge and the node (where
//! the test runs its control plane) at the bridge's address.
//!
//! Tests use it to run proxies exactly as on Kubernetes: the init
//! container's rules in the pod's namespace, the proxy's original
//! destination from those rules. Creating namespaces needs root and `ip`;
//! [`why_unavailable`] says what is missing, for the caller to skip (or fail
//! where tools are required, [`crate::process::tool_missing`]).

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};

/// Why namespaces cannot be built here (not root, a program missing), or
/// `None` when they can.
pub fn why_unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("");
    if euid != "0" {
        return Some("network namespaces need root, and this test is not running as root".into());
    }
    for (program, arg) in [
        ("ip", "-V"),
        ("nsenter", "--version"),
        ("iptables-restore", "--version"),
        ("iptables-save", "--version"),
    ] {
        let found = Command::new(program)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!(
                "{program} is not available (Debian: apt-get install iproute2 util-linux iptables)"
            ));
        }
    }
    None
}

/// Runs `ip args`; the error names the command and what `ip` said.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Runs `f` on a thread that has entered the network namespace at `path`;
/// sockets it creates stay in that namespace wherever they are used
/// afterwards (a listener bound there accepts that namespace's
/// connections on any runtime).
pub fn in_netns<T: Send + 'static>(path: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = path.to_string();
    let joined = std::thread::spawn(move || {
        let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network))
            .unwrap_or_else(|e| panic!("entering {path}: {e}"));
        f()
    })
    .join();
    match joined {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// One node's pods, removed (namespaces, bridge) when dropped.
pub struct Node {
    bridge: String,
    subnet: u8,
    pods: Vec<Pod>,
}

/// One pod: a network namespace with an address on the node's bridge.
#[derive(Clone, Debug)]
pub struct Pod {
    /// The pod's name, as the test calls it.
    pub name: String,
    /// The namespace's name (under `/var/run/netns`).
    pub netns: String,
    /// The pod's address.
    pub ip: Ipv4Addr,
}

/// Nodes made by this process so far: each gets its own /24 and names.
static NODES: AtomicU32 = AtomicU32::new(0);

impl Node {
    /// A node with one pod per name, at `10.<200+n>.0.<10+i>` on a bridge
    /// at `.1`, where `n` counts this process's nodes. The error says
    /// which step failed; whatever was made is removed.
    pub fn new(pods: &[&str]) -> Result<Node, String> {
        let n = NODES.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id() % 100_000;
        let subnet = u8::try_from(200 + n % 50).unwrap_or(200);
        let tag = format!("{pid}n{n}");
        let mut node = Node {
            bridge: format!("sb{tag}"),
            subnet,
            pods: Vec::new(),
        };
        ip(&["link", "add", &node.bridge, "type", "bridge"])?;
        let gateway = format!("{}/24", node.gateway());
        ip(&["addr", "add", &gateway, "dev", &node.bridge])?;
        ip(&["link", "set", &node.bridge, "up"])?;
        for (i, name) in pods.iter().enumerate() {
            let host = u8::try_from(10 + i).map_err(|_| "too many pods on one node".to_string())?;
            let pod = Pod {
                name: name.to_string(),
                netns: format!("st{tag}-{name}"),
                ip: Ipv4Addr::new(10, subnet, 0, host),
            };
            ip(&["netns", "add", &pod.netns])?;
            node.pods.push(pod.clone());
            let outside = format!("sv{tag}p{i}");
            let cidr = format!("{}/24", pod.ip);
            let gw = node.gateway().to_string();
            let steps: [&[&str]; 7] = [
                &["-n", &pod.netns, "link", "set", "lo", "up"],
                &[
                    "link", "add", &outside, "type", "veth", "peer", "name", "eth0", "netns",
                    &pod.netns,
                ],
                &["link", "set", &outside, "master", &node.bridge],
                &["link", "set", &outside, "up"],
                &["-n", &pod.netns, "addr", "add", &cidr, "dev", "eth0"],
                &["-n", &pod.netns, "link", "set", "eth0", "up"],
                &["-n", &pod.netns, "route", "add", "default", "via", &gw],
            ];
            for step in steps {
                ip(step)?;
            }
        }
        Ok(node)
    }

    /// The node's address on the bridge, where pods reach the node.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet, 0, 1)
    }

    /// The pod called `name`.
    pub fn pod(&self, name: &str) -> &Pod {
        match self.pods.iter().find(|p| p.name == name) {
            Some(pod) => pod,
            None => panic!("no pod {name} on this node"),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for pod in &self.pods {
            let _ = ip(&["netns", "del", &pod.netns]);
        }
        let _ = ip(&["link", "del", &self.bridge]);
    }
}

impl Pod {
    /// The namespace's path, for `nsenter --net=` and `setns`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/var/run/netns/{}", self.netns))
    }

    /// Runs `f` inside the pod's namespace ([`in_netns`]).
    pub fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        in_netns(&self.path().to_string_lossy(), f)
    }

    /// A listener bound to `addr` inside the pod, non-blocking, for a tokio
    /// runtime to take (`TcpListener::from_std`).
    pub fn bind(&self, addr: SocketAddr) -> std::net::TcpListener {
        self.enter(move || {
            let listener = std::net::TcpListener::bind(addr)
                .unwrap_or_else(|e| panic!("bind {addr} in the pod: {e}"));
            listener
                .set_nonblocking(true)
                .unwrap_or_else(|e| panic!("{e}"));
            listener
        })
    }

    /// A connection to `to` made from inside the pod, as its application
    /// makes it (the pod's rules apply), as a tokio stream.
    pub fn connect(&self, to: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
        let stream = self.enter(move || {
            std::net::TcpStream::connect_timeout(&to, std::time::Duration::from_secs(3))
        })?;
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        tokio::net::TcpStream::from_std(stream)
    }

    /// `program` run inside the pod's namespace (through `nsenter`), as
    /// user and group `uid` when given: a proxy runs as its own user, whose
    /// connections the pod's rules leave alone.
    pub fn command(&self, program: &std::path::Path, uid: Option<u32>) -> Command {
        let mut command = Command::new("nsenter");
        command.arg(format!("--net={}", self.path().display()));
        if let Some(uid) = uid {
            command.args(["-S", &uid.to_string(), "-G", &uid.to_string()]);
        }
        command.arg("--").arg(program);
        command
    }
}
