//! An authorization plugin whose misbehaviour is chosen by the request path,
//! so one component exercises every containment rule of the plugin host:
//!
//! - `/loop`: never returns (the epoch deadline must stop it);
//! - `/grow`: allocates until memory runs out (the memory cap must stop it);
//! - `/trap`: panics, which traps;
//! - `/log`: logs one line at each level, then allows;
//! - anything else (including connection-level calls): allows, naming
//!   `default/faulty-plugin`, so the host's smoke call passes.

wit_bindgen::generate!({
    path: "../../../wit/authz",
    world: "authorizer",
});

use strait::authz::log::{log, Level};
use strait::authz::types as wit;

struct Faulty;

impl Guest for Faulty {
    fn authorize(request: wit::Inbound, _candidates: Vec<wit::Authorization>) -> wit::Decision {
        let path = request.http.as_ref().map(|h| h.path.as_str()).unwrap_or("");
        match path {
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
                for level in [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error] {
                    log(level, &format!("faulty plugin logging at {level:?}"));
                }
                allow()
            }
            _ => allow(),
        }
    }
}

fn allow() -> wit::Decision {
    wit::Decision::Allow(wit::ResourceRef {
        group: String::new(),
        kind: "default".into(),
        name: "faulty-plugin".into(),
    })
}

export!(Faulty);
