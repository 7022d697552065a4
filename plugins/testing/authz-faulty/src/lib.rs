//! An authorization plugin whose misbehaviour is chosen by the request path,
//! so one component exercises every containment rule of the plugin host:
//!
//! - `/loop`: never returns (the epoch deadline must stop it);
//! - `/grow`: allocates until memory runs out (the memory cap must stop it);
//! - `/trap`: panics, which traps;
//! - `/log`: logs one line at each level, then allows;
//! - `/index/N`: allows as candidate N (which may not exist);
//! - `/inspect`: allows, naming in the reference every field it read from the
//!   request (so tests see exactly what crossed the boundary);
//! - anything else (including connection-level calls): allows, naming
//!   `default/faulty-plugin`, so the host's smoke call passes.

wit_bindgen::generate!({
    path: "../../../wit/authz",
    world: "authz-plugin",
});

use exports::strait::authz::authorizer::{CandidatesBorrow, Guest, GuestCandidates};
use strait::authz::log::{Level, log};
use strait::authz::types as wit;

struct Faulty;

/// Candidates are ignored; only their count is kept.
struct Ignored(usize);

impl GuestCandidates for Ignored {
    fn new(authorizations: Vec<wit::Authorization>) -> Self {
        Ignored(authorizations.len())
    }
}

impl Guest for Faulty {
    type Candidates = Ignored;

    fn authorize(
        client: wit::Client,
        request: &wit::Inbound,
        candidates: CandidatesBorrow<'_>,
    ) -> wit::Decision {
        let path = request.http().map(|h| h.path).unwrap_or_default();
        match path.as_str() {
            "/loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
                }
            }
            "/trap" => panic!("the faulty plugin was asked to trap"),
            "/log" => {
                let ignored = candidates.get::<Ignored>().0;
                let agent = request.header("user-agent").join(",");
                for level in [
                    Level::Trace,
                    Level::Debug,
                    Level::Info,
                    Level::Warn,
                    Level::Error,
                ] {
                    log(
                        level,
                        &format!("at {level:?}: user-agent {agent}, {ignored} candidates ignored"),
                    );
                }
                allow()
            }
            "/inspect" => {
                let http = request.http();
                let route = request.route().map(|r| format!("{}/{}", r.kind, r.name));
                let seen = format!(
                    "tls={:?} ip={:?} server={}/{} port={} protocol={:?} route={route:?} method={:?} authority={:?} x-test={:?} candidates={}",
                    client.tls,
                    client.ip,
                    request.server().kind,
                    request.server().name,
                    request.port(),
                    request.protocol(),
                    http.as_ref().map(|h| h.method.as_str()),
                    http.as_ref().map(|h| h.authority.as_str()),
                    request.header("X-Test"),
                    candidates.get::<Ignored>().0,
                );
                wit::Decision::AllowAs(wit::ResourceRef {
                    group: String::new(),
                    kind: "inspect".into(),
                    name: seen,
                })
            }
            other => match other.strip_prefix("/index/").and_then(|n| n.parse().ok()) {
                Some(index) => wit::Decision::Allow(index),
                None => allow(),
            },
        }
    }
}

fn allow() -> wit::Decision {
    wit::Decision::AllowAs(wit::ResourceRef {
        group: String::new(),
        kind: "default".into(),
        name: "faulty-plugin".into(),
    })
}

export!(Faulty);
