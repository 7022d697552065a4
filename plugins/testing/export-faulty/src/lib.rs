//! An export plugin whose behaviour is chosen by the Service's name, for the
//! plugin host's tests of the export failure policy:
//!
//! - `trap`: panics, which traps;
//! - `loop`: never returns;
//! - anything else: remote discovery, with an extra label and annotation and
//!   one label under a reserved prefix (which the host must drop).
//!
//! `federate` behaves the same way, answering a federated member with the
//! same extras.

wit_bindgen::generate!({
    path: "../../../wit/export",
    world: "export-plugin",
});

use exports::strait::export_mode::exporter::Guest;
use strait::export_mode::types as wit;

struct Faulty;

impl Guest for Faulty {
    fn decide(service: wit::RemoteService, _link: wit::Link) -> wit::Decision {
        misbehave(&service.name);
        wit::Decision::RemoteDiscovery(extras())
    }

    fn federate(service: wit::RemoteService, _link: wit::Link) -> wit::Federation {
        misbehave(&service.name);
        wit::Federation::Federated(extras())
    }
}

/// Traps or loops when the Service's name asks for it.
fn misbehave(name: &str) {
    match name {
        "trap" => panic!("the faulty export plugin was asked to trap"),
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        _ => {}
    }
}

fn extras() -> wit::MirrorExtras {
    wit::MirrorExtras {
        labels: vec![
            label("team", "payments"),
            label("mirror.linkerd.io/cluster-name", "forged"),
        ],
        annotations: vec![label("example.com/exported-by", "faulty")],
    }
}

fn label(key: &str, value: &str) -> wit::Label {
    wit::Label {
        key: key.into(),
        value: value.into(),
    }
}

export!(Faulty);
